-- name: ensure_regions
INSERT INTO regions (name) SELECT unnest(%(names)s::text[]) ON CONFLICT (name) DO NOTHING;

-- name: create_monitor
INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions,
                      expectations, tags, enabled, slo_target, region_quorum)
VALUES (%(account_id)s, %(name)s, %(kind)s, %(target)s, %(interval_s)s, %(timeout_ms)s,
        %(regions)s, %(expectations)s, %(tags)s, %(enabled)s, %(slo_target)s, %(region_quorum)s)
RETURNING *;

-- name: list_monitors
SELECT * FROM monitors
WHERE account_id = %(account_id)s AND id > %(after)s
ORDER BY id
LIMIT %(limit)s;

-- name: get_monitor
SELECT * FROM monitors WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: update_monitor
UPDATE monitors SET
    name = %(name)s, kind = %(kind)s, target = %(target)s, interval_s = %(interval_s)s,
    timeout_ms = %(timeout_ms)s, regions = %(regions)s, expectations = %(expectations)s,
    tags = %(tags)s, enabled = %(enabled)s, slo_target = %(slo_target)s,
    region_quorum = %(region_quorum)s, updated_at = now()
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING *;

-- name: delete_monitor
DELETE FROM monitors WHERE id = %(id)s AND account_id = %(account_id)s RETURNING id;
