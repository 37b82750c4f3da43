-- name: report_monitors
SELECT id, name, target, slo_target::float8 AS slo_target, interval_s
FROM monitors WHERE account_id = %(account_id)s ORDER BY name, id;

-- name: report_window_stats
-- Window totals through the window functions (rollups + the open bucket from raw), less
-- the slots inside maintenance windows (vigil_window_excluded, counted in excluded_slots).
-- Latency percentiles keep every up result.
SELECT w.monitor_id, w.up_slots - coalesce(x.up_slots, 0) AS up_slots,
       w.down_slots - coalesce(x.down_slots, 0) AS down_slots,
       w.missed_slots - coalesce(x.missed_slots, 0) AS missed_slots,
       coalesce(x.slots, 0) AS excluded_slots,
       vigil_hist_quantile(w.hist, 0.95) AS p95_us, vigil_hist_quantile(w.hist, 0.99) AS p99_us
FROM vigil_window_stats(%(ids)s::integer[], %(from_ts)s, %(to_ts)s) w
LEFT JOIN vigil_window_excluded(%(ids)s::integer[], %(from_ts)s, %(to_ts)s) x USING (monitor_id);

-- name: report_hourly
-- The chart's series: per monitor and hour, slots under the quorum and the p95 of up
-- latency (region_id 0 = the monitor-level rows of the raw statistics, vigil_raw_stats).
SELECT monitor_id, bucket AS hour, up_slots, down_slots, vigil_hist_quantile(hist, 0.95) AS p95_us
FROM vigil_raw_stats(%(ids)s::integer[], %(from_ts)s, %(to_ts)s)
WHERE region_id = 0
ORDER BY monitor_id, bucket;

-- name: report_incident_counts
-- Incidents (from the alerting tables) that fired in the window, per monitor; pending ones
-- that never fired are not incidents anyone was told about.
SELECT monitor_id, count(*) AS incidents
FROM incidents
WHERE monitor_id = ANY(%(ids)s::integer[]) AND fired_at >= %(from_ts)s AND fired_at < %(to_ts)s
GROUP BY monitor_id;

-- name: account_by_name
SELECT id, name FROM accounts WHERE name = %(name)s;
