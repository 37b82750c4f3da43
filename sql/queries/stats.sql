-- Stats API (api/stats/): uptime, SLA and latency over a window, built on the analytics
-- contract (vigil_window_stats, vigil_window_region_stats, vigil_hist_*) and on
-- vigil_monitor_slots (sql/0008_stats.sql). %(region_id)s NULL = all regions with the quorum
-- rule; a region id = that region alone.

-- name: stats_monitor_ids_by_tag
SELECT id FROM monitors WHERE account_id = %(account_id)s AND %(tag)s = ANY (tags) ORDER BY id;

-- name: stats_region_id
SELECT id FROM regions WHERE name = %(name)s;

-- name: stats_window
-- One row per monitor plus one total row (monitor_id NULL): GROUPING SETS answers a single
-- monitor and a tag group in the same statement. The error budget is slot-weighted: each
-- monitor may spend (100 - slo_target) percent of its decided (up + down) slots.
WITH w AS (
    SELECT s.monitor_id, s.slots, s.up_slots, s.down_slots, s.missed_slots, s.checks,
           s.latency_min_us, s.latency_max_us, s.latency_sum_us, s.hist
    FROM vigil_window_stats(%(ids)s::integer[], %(from)s, %(to)s) s
    WHERE %(region_id)s::smallint IS NULL
    UNION ALL
    SELECT s.monitor_id, s.slots, s.up_slots, s.down_slots, s.missed_slots, s.checks,
           s.latency_min_us, s.latency_max_us, s.latency_sum_us, s.hist
    FROM vigil_window_region_stats(%(ids)s::integer[], %(from)s, %(to)s) s
    WHERE s.region_id = %(region_id)s::smallint
), g AS (
    SELECT w.monitor_id, sum(w.slots)::bigint AS slots, sum(w.up_slots)::bigint AS up_slots,
           sum(w.down_slots)::bigint AS down_slots, sum(w.missed_slots)::bigint AS missed_slots,
           sum(w.checks)::bigint AS checks, min(w.latency_min_us) AS latency_min_us,
           max(w.latency_max_us) AS latency_max_us, sum(w.latency_sum_us)::float8 AS latency_sum_us,
           sum((w.up_slots + w.down_slots) * (100 - m.slo_target) / 100)::float8 AS budget_slots,
           vigil_hist_merge(w.hist) AS hist
    FROM w JOIN monitors m ON m.id = w.monitor_id
    GROUP BY GROUPING SETS ((w.monitor_id), ())
)
SELECT monitor_id, slots, up_slots, down_slots, missed_slots, checks,
       100.0 * up_slots / nullif(up_slots + down_slots, 0) AS uptime_pct,
       100 - 100 * budget_slots / nullif(up_slots + down_slots, 0) AS slo_target,
       100 * (1 - down_slots / nullif(budget_slots, 0)) AS error_budget_remaining_pct,
       latency_min_us, latency_max_us,
       latency_sum_us / nullif(vigil_hist_count(hist), 0) AS latency_mean_us,
       vigil_hist_quantile(hist, 0.5) AS p50_us, vigil_hist_quantile(hist, 0.9) AS p90_us,
       vigil_hist_quantile(hist, 0.95) AS p95_us, vigil_hist_quantile(hist, 0.99) AS p99_us,
       vigil_hist_quantile(hist, 0.999) AS p99_9_us
FROM g
ORDER BY monitor_id NULLS FIRST;

-- name: stats_regions
SELECT rg.name AS region, s.slots, s.up_slots, s.down_slots, s.missed_slots, s.checks,
       100.0 * s.up_slots / nullif(s.up_slots + s.down_slots, 0) AS uptime_pct,
       s.latency_min_us, s.latency_max_us,
       s.latency_sum_us::float8 / nullif(vigil_hist_count(s.hist), 0) AS latency_mean_us,
       vigil_hist_quantile(s.hist, 0.5) AS p50_us, vigil_hist_quantile(s.hist, 0.9) AS p90_us,
       vigil_hist_quantile(s.hist, 0.95) AS p95_us, vigil_hist_quantile(s.hist, 0.99) AS p99_us,
       vigil_hist_quantile(s.hist, 0.999) AS p99_9_us
FROM vigil_window_region_stats(ARRAY[%(monitor_id)s]::integer[], %(from)s, %(to)s) s
JOIN regions rg ON rg.id = s.region_id
ORDER BY rg.name;

-- name: stats_series_rollup
-- Hourly or daily points; each bucket (clipped to the window) is answered by the contract's
-- window functions, which read finished rollups and raw rows of the still-open part.
-- generate_series fills buckets without results (slots = 0, latency NULL).
SELECT b.bucket AS time, coalesce(s.slots, 0) AS slots, coalesce(s.up_slots, 0) AS up_slots,
       coalesce(s.down_slots, 0) AS down_slots, coalesce(s.missed_slots, 0) AS missed_slots,
       100.0 * s.up_slots / nullif(s.up_slots + s.down_slots, 0) AS uptime_pct,
       s.latency_sum_us::float8 / nullif(vigil_hist_count(s.hist), 0) AS latency_mean_us,
       vigil_hist_quantile(s.hist, 0.5) AS p50_us, vigil_hist_quantile(s.hist, 0.95) AS p95_us,
       vigil_hist_quantile(s.hist, 0.99) AS p99_us
FROM generate_series(time_bucket(%(step)s::interval, %(from)s::timestamptz),
                     %(to)s::timestamptz - interval '1 microsecond', %(step)s::interval) b(bucket)
LEFT JOIN LATERAL (
    SELECT w.slots, w.up_slots, w.down_slots, w.missed_slots, w.latency_sum_us, w.hist
    FROM vigil_window_stats(ARRAY[%(monitor_id)s]::integer[], greatest(b.bucket, %(from)s),
                            least(b.bucket + %(step)s::interval, %(to)s)) w
    WHERE %(region_id)s::smallint IS NULL
    UNION ALL
    SELECT w.slots, w.up_slots, w.down_slots, w.missed_slots, w.latency_sum_us, w.hist
    FROM vigil_window_region_stats(ARRAY[%(monitor_id)s]::integer[], greatest(b.bucket, %(from)s),
                                   least(b.bucket + %(step)s::interval, %(to)s)) w
    WHERE w.region_id = %(region_id)s::smallint
) s ON true
ORDER BY b.bucket;

-- name: stats_series_raw
-- One point per slot-wide bucket; latency percentiles over the up results of the bucket.
WITH slots AS (
    SELECT time_bucket(%(step)s::interval, s.slot) AS bucket,
           count(*) AS slots, count(*) FILTER (WHERE s.status = 'up') AS up_slots,
           count(*) FILTER (WHERE s.status = 'down') AS down_slots,
           count(*) FILTER (WHERE s.status = 'missed') AS missed_slots
    FROM vigil_monitor_slots(%(monitor_id)s, %(from)s, %(to)s, %(region_id)s::smallint) s
    GROUP BY 1
), latency AS (
    SELECT time_bucket(%(step)s::interval, r.time) AS bucket, avg(r.latency_us) AS latency_mean_us,
           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY r.latency_us) AS pct
    FROM check_results r
    WHERE r.monitor_id = %(monitor_id)s AND r.time >= %(from)s AND r.time < %(to)s AND r.up
      AND (%(region_id)s::smallint IS NULL OR r.region_id = %(region_id)s::smallint)
    GROUP BY 1
)
SELECT b.bucket AS time, coalesce(s.slots, 0) AS slots, coalesce(s.up_slots, 0) AS up_slots,
       coalesce(s.down_slots, 0) AS down_slots, coalesce(s.missed_slots, 0) AS missed_slots,
       100.0 * s.up_slots / nullif(s.up_slots + s.down_slots, 0) AS uptime_pct,
       l.latency_mean_us::float8 AS latency_mean_us, l.pct[1] AS p50_us, l.pct[2] AS p95_us,
       l.pct[3] AS p99_us
FROM generate_series(time_bucket(%(step)s::interval, %(from)s::timestamptz),
                     %(to)s::timestamptz - interval '1 microsecond', %(step)s::interval) b(bucket)
LEFT JOIN slots s ON s.bucket = b.bucket
LEFT JOIN latency l ON l.bucket = b.bucket
ORDER BY b.bucket;

-- name: stats_recent_slots
SELECT s.slot AS time, s.status, s.latency_us
FROM vigil_monitor_slots(%(monitor_id)s, %(from)s, %(to)s, %(region_id)s::smallint) s
ORDER BY s.slot DESC
LIMIT %(limit)s;

-- name: stats_status_since
-- Start of the current run: the first slot after the last slot whose status differs from
-- the newest one, within [from, to). NULL run_start means no other status in the lookback.
WITH s AS MATERIALIZED (
    SELECT slot AS time, status FROM vigil_monitor_slots(%(monitor_id)s, %(from)s, %(to)s, %(region_id)s::smallint)
), other AS (
    SELECT max(time) AS t FROM s WHERE status <> %(status)s
)
SELECT (SELECT min(s.time) FROM s, other WHERE other.t IS NOT NULL AND s.time > other.t) AS run_start,
       (SELECT min(time) FROM s) AS first_slot;

-- name: stats_downtimes
-- Downtime periods: maximal runs of down slots (gaps and islands over the decided slots;
-- missed slots neither break nor extend a run). A period ends at the first up slot after
-- it; one still down at the end of the window ends one interval after its last down slot
-- and is marked ongoing.
WITH s AS (
    SELECT slot AS time, status,
           row_number() OVER (ORDER BY slot)
             - row_number() OVER (PARTITION BY status ORDER BY slot) AS island
    FROM vigil_monitor_slots(%(monitor_id)s, %(from)s, %(to)s, %(region_id)s::smallint)
    WHERE status <> 'missed'
), runs AS (
    SELECT status, min(time) AS started_at, max(time) AS last_slot, count(*) AS slots
    FROM s GROUP BY status, island
), periods AS (
    SELECT status, started_at, last_slot, slots, lead(started_at) OVER (ORDER BY started_at) AS next_start
    FROM runs
)
SELECT started_at, coalesce(next_start, last_slot + make_interval(secs => %(interval_s)s)) AS ended_at,
       next_start IS NULL AS ongoing, slots AS down_slots
FROM periods
WHERE status = 'down'
ORDER BY started_at;
