-- name: store_tls_certificates
-- The latest certificate each monitor of a batch presented, one statement per batch.
-- Monitors deleted meanwhile are skipped rather than failing the batch.
INSERT INTO tls_certificates AS c (monitor_id, region_id, not_after, subject, issuer, checked_at)
SELECT u.monitor_id, %(region_id)s, u.not_after, u.subject, u.issuer, now()
FROM unnest(%(monitor_ids)s::integer[], %(not_after)s::timestamptz[], %(subjects)s::text[], %(issuers)s::text[])
     AS u(monitor_id, not_after, subject, issuer)
WHERE EXISTS (SELECT 1 FROM monitors m WHERE m.id = u.monitor_id)
ON CONFLICT (monitor_id, region_id) DO UPDATE
SET not_after = excluded.not_after, subject = excluded.subject, issuer = excluded.issuer,
    checked_at = excluded.checked_at;
