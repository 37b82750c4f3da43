-- name: schedule_monitors
-- Every enabled monitor with each of its regions' ids, for the scheduler's slot table, and
-- the API request that created or changed it when that was recent (its first check says so).
SELECT m.id, m.kind, m.target, m.interval_s, m.timeout_ms, m.expectations,
       r.name AS region, r.id AS region_id,
       CASE WHEN m.updated_at >= now() - make_interval(secs => %(recent_s)s) THEN m.request_id END
           AS request_id
FROM monitors m
JOIN regions r ON r.name = ANY (m.regions)
WHERE m.enabled
ORDER BY m.id;

-- name: schedule_fingerprint
-- What changes whenever schedule_monitors' answer can: monitors added, removed or updated
-- (every update sets updated_at), and regions added or removed. Cheap beside reading every
-- monitor, so the scheduler reads them again only when this changes.
SELECT count(*), coalesce(sum(m.id), 0), max(m.updated_at),
       (SELECT count(*) FROM regions), (SELECT coalesce(sum(id), 0) FROM regions)
FROM monitors m
WHERE m.enabled;

-- name: recent_results
SELECT time, region_id, up, error_kind, status_code, latency_us, connect_us, ttfb_us,
       lateness_ms, attempts
FROM check_results
WHERE monitor_id = %(monitor_id)s AND time >= %(since)s
ORDER BY time DESC
LIMIT %(limit)s;
