-- name: report_monitors
SELECT id, name, target, slo_target::float8 AS slo_target, interval_s
FROM monitors WHERE account_id = %(account_id)s ORDER BY name, id;

-- name: report_window_stats_contract
-- Window totals through the analytics contract (rollups + the open bucket from raw).
SELECT monitor_id, up_slots, down_slots, missed_slots,
       vigil_hist_quantile(hist, 0.95) AS p95_us, vigil_hist_quantile(hist, 0.99) AS p99_us
FROM vigil_window_stats(%(ids)s::integer[], %(from_ts)s, %(to_ts)s);

-- name: report_window_stats_raw
-- The same figures from raw rows, used until vigil_window_stats exists in the database.
WITH states AS (SELECT * FROM notify_slot_states(%(ids)s::integer[], %(from_ts)s, %(to_ts)s)),
counts AS (
    SELECT monitor_id, count(*) FILTER (WHERE state = 'up') AS up_slots,
           count(*) FILTER (WHERE state = 'down') AS down_slots,
           count(*) FILTER (WHERE state = 'missed') AS missed_slots
    FROM states GROUP BY monitor_id
), latency AS (
    SELECT monitor_id, percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_us) AS p95_us,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_us) AS p99_us
    FROM check_results
    WHERE monitor_id = ANY(%(ids)s::integer[]) AND time >= %(from_ts)s AND time < %(to_ts)s AND up
    GROUP BY monitor_id
)
SELECT c.monitor_id, c.up_slots, c.down_slots, c.missed_slots, l.p95_us, l.p99_us
FROM counts c LEFT JOIN latency l USING (monitor_id);

-- name: report_hourly
-- The chart's series: per monitor and hour, slot counts by state and the p95 of up latency.
WITH states AS (SELECT * FROM notify_slot_states(%(ids)s::integer[], %(from_ts)s, %(to_ts)s)),
counts AS (
    SELECT monitor_id, time_bucket('1 hour', slot) AS hour,
           count(*) FILTER (WHERE state = 'up') AS up_slots,
           count(*) FILTER (WHERE state = 'down') AS down_slots
    FROM states GROUP BY 1, 2
), latency AS (
    SELECT monitor_id, time_bucket('1 hour', time) AS hour,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_us) AS p95_us
    FROM check_results
    WHERE monitor_id = ANY(%(ids)s::integer[]) AND time >= %(from_ts)s AND time < %(to_ts)s AND up
    GROUP BY 1, 2
)
SELECT c.monitor_id, c.hour, c.up_slots, c.down_slots, l.p95_us
FROM counts c LEFT JOIN latency l USING (monitor_id, hour)
ORDER BY c.monitor_id, c.hour;

-- name: report_down_episodes
-- Downtime as runs of consecutive down slots (gaps and islands; missed slots neither break
-- nor extend a run): per monitor the number of runs and their total duration.
WITH states AS (
    SELECT monitor_id, slot, state, interval_s,
           row_number() OVER (PARTITION BY monitor_id ORDER BY slot)
         - row_number() OVER (PARTITION BY monitor_id, state ORDER BY slot) AS run
    FROM notify_slot_states(%(ids)s::integer[], %(from_ts)s, %(to_ts)s)
    WHERE state <> 'missed'
), runs AS (
    SELECT monitor_id, run, count(*) * max(interval_s) AS seconds
    FROM states WHERE state = 'down' GROUP BY monitor_id, run
)
SELECT monitor_id, count(*) AS episodes, sum(seconds)::bigint AS downtime_s
FROM runs GROUP BY monitor_id;

-- name: report_incident_counts
-- Incidents (from the alerting tables) that fired in the window, per monitor; pending ones
-- that never fired are not incidents anyone was told about.
SELECT monitor_id, count(*) AS incidents
FROM incidents
WHERE monitor_id = ANY(%(ids)s::integer[]) AND fired_at >= %(from_ts)s AND fired_at < %(to_ts)s
GROUP BY monitor_id;

-- name: report_has_window_stats
SELECT to_regprocedure('vigil_window_stats(integer[], timestamptz, timestamptz)') IS NOT NULL AS contract,
       (SELECT count(*) = 2 FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = 'incidents'
          AND column_name IN ('monitor_id', 'fired_at')) AS incidents;

-- name: account_by_name
SELECT id, name FROM accounts WHERE name = %(name)s;
