-- Stats API (api/stats/). Window figures come from the window functions' Python side
-- (aggregator.windows); these are the series, slot-level and lookup queries. Slots are read
-- through vigil_monitor_slots (sql/functions/slots.sql). %(region_id)s NULL = all regions under
-- the quorum rule; a region id = that region alone.

-- name: stats_monitors
-- The account's monitors among the ids, with how far back each store is whole
-- (retention_kept) to state which part of a window the figures cover; in the same round trip.
SELECT m.*, h.raw_from, h.hourly_from, h.daily_from
FROM monitors m, retention_kept h
WHERE m.id = ANY (%(ids)s::integer[]) AND m.account_id = %(account_id)s;

-- name: stats_monitors_by_tag
SELECT m.id, m.slo_target::float8 AS slo_target, m.regions, h.raw_from, h.hourly_from, h.daily_from
FROM monitors m, retention_kept h
WHERE m.account_id = %(account_id)s AND %(tag)s = ANY (m.tags) ORDER BY m.id;

-- name: stats_window_excluded
-- Per monitor, the slots of the window inside maintenance periods by status (judged under the
-- quorum, or in one region alone with region_id), which uptime and the error budget leave out.
SELECT monitor_id, slots, up_slots, down_slots, missed_slots
FROM vigil_window_excluded(%(ids)s::integer[], %(from)s, %(to)s, %(region_id)s::smallint);

-- name: stats_region_excluded
-- The same per monitor in each region alone (the per-region breakdown).
SELECT x.monitor_id, g.id AS region_id, x.slots, x.up_slots, x.down_slots, x.missed_slots
FROM regions g
CROSS JOIN LATERAL vigil_window_excluded(%(ids)s::integer[], %(from)s, %(to)s, g.id) x;

-- name: stats_region_id
SELECT id FROM regions WHERE name = %(name)s;

-- name: stats_region_names
SELECT id, name FROM regions;

-- name: stats_series_parts
-- Hourly pieces of a window for the series of several monitors, each labelled with its monitor
-- and series bucket (1 h or 1 d); generate_series lists every bucket of every monitor, so
-- buckets without results come back as one row of NULLs. The pieces are those of
-- vigil_window_parts, kept per hour: rolled-up clean hours from rollup_1h, raw statistics
-- (vigil_raw_stats) for the head and tail of the window (from the raw horizon on), hours not
-- rolled yet and each monitor's hours that got late rows. region_id 0 = the monitor under its
-- quorum.
WITH wm AS (
    SELECT coalesce((SELECT rolled_until FROM rollup_state WHERE width = '1 hour'), '-infinity') AS h,
           vigil_raw_kept_from() AS raw_from
), edge AS (
    SELECT l.lo, greatest(l.lo, least(time_bucket(interval '1 hour', %(to)s::timestamptz), wm.h)) AS hi, wm.raw_from
    FROM wm, LATERAL (SELECT least(time_bucket(interval '1 hour', %(from)s::timestamptz + interval '1 hour'
                                               - interval '1 microsecond'), %(to)s::timestamptz) AS lo) AS l
), dirty AS (
    SELECT d.monitor_id, d.bucket FROM rollup_dirty d, edge
    WHERE d.monitor_id = ANY (%(ids)s::integer[]) AND d.bucket >= greatest(edge.lo, edge.raw_from) AND d.bucket < edge.hi
), raw_ranges AS (
    -- monitor_id NULL: every monitor's; else that monitor's late rows
    SELECT NULL::integer AS monitor_id, greatest(%(from)s::timestamptz, edge.raw_from) AS s, edge.lo AS e FROM edge
    WHERE greatest(%(from)s::timestamptz, edge.raw_from) < edge.lo
    UNION ALL SELECT NULL, greatest(edge.hi, edge.raw_from), %(to)s::timestamptz FROM edge
    WHERE greatest(edge.hi, edge.raw_from) < %(to)s::timestamptz
    UNION ALL SELECT dirty.monitor_id, dirty.bucket, dirty.bucket + interval '1 hour' FROM dirty
), parts AS (
    SELECT r.monitor_id, r.bucket, r.slots::bigint, r.up_slots::bigint, r.down_slots::bigint,
           r.missed_slots::bigint, r.checks::bigint, r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist
    FROM rollup_1h r, edge
    WHERE r.monitor_id = ANY (%(ids)s::integer[]) AND r.region_id = coalesce(%(region_id)s::smallint, 0)
      AND r.bucket >= edge.lo AND r.bucket < edge.hi
      AND NOT EXISTS (SELECT 1 FROM dirty WHERE dirty.monitor_id = r.monitor_id AND dirty.bucket = r.bucket)
    UNION ALL
    SELECT x.monitor_id, x.bucket, x.slots, x.up_slots, x.down_slots, x.missed_slots, x.checks,
           x.latency_min_us, x.latency_max_us, x.latency_sum_us, x.hist
    -- the ids as given, not per range, so the raw rows are found by (monitor, time)
    FROM raw_ranges, LATERAL vigil_raw_stats(%(ids)s::integer[], raw_ranges.s, raw_ranges.e) AS x
    WHERE x.region_id = coalesce(%(region_id)s::smallint, 0)
      AND (raw_ranges.monitor_id IS NULL OR x.monitor_id = raw_ranges.monitor_id)
)
SELECT m.id AS monitor_id, g.bucket AS time, p.slots, p.up_slots, p.down_slots, p.missed_slots, p.checks,
       p.latency_min_us, p.latency_max_us, p.latency_sum_us, p.hist
FROM unnest(%(ids)s::integer[]) AS m(id)
CROSS JOIN generate_series(time_bucket(%(step)s::interval, %(from)s::timestamptz),
                           %(to)s::timestamptz - interval '1 microsecond', %(step)s::interval) AS g(bucket)
LEFT JOIN parts p ON p.monitor_id = m.id AND time_bucket(%(step)s::interval, p.bucket) = g.bucket
ORDER BY m.id, g.bucket;

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

-- name: stats_status_lookback
-- Which raw slots the current run is traced through (stats_status_since): [trace_from,
-- skip_from) and [skip_to, to). The hours in between are rolled up, clean (no late rows
-- since) and hold only slots of the newest status, so their raw rows are not read.
-- trace_from is the newest rolled-up hour holding a slot of another status (the run began
-- after it; the trace reads that hour), or else the start of the lookback (the trace reads
-- up to its first whole hour, or to the hourly horizon where retention dropped hours).
-- skip_to is the first hour after those that the rollups do not reflect: the hourly
-- watermark (hours not rolled yet), or earlier this monitor's first hour with late rows.
-- So a monitor up all week costs two short raw ranges, not seven days of raw.
WITH other AS (
    SELECT max(bucket) AS bucket FROM rollup_1h
    WHERE monitor_id = %(monitor_id)s AND region_id = coalesce(%(region_id)s::smallint, 0)
      AND bucket >= %(from)s
      AND CASE %(status)s WHEN 'up' THEN down_slots + missed_slots > 0
                          WHEN 'down' THEN up_slots + missed_slots > 0
                          ELSE up_slots + down_slots > 0 END
), head AS (
    SELECT coalesce(other.bucket, %(from)s::timestamptz) AS trace_from,
           coalesce(other.bucket + interval '1 hour',
                    greatest(time_bucket(interval '1 hour', %(from)s::timestamptz + interval '1 hour'
                                                            - interval '1 microsecond'),
                             (SELECT hourly_from FROM retention_kept))) AS skip_from
    FROM other
)
SELECT head.trace_from, head.skip_from,
       greatest(head.skip_from,
                least(coalesce((SELECT rolled_until FROM rollup_state WHERE width = '1 hour'), '-infinity'),
                      (SELECT min(d.bucket) FROM rollup_dirty d
                       WHERE d.monitor_id = %(monitor_id)s AND d.bucket >= head.skip_from))) AS skip_to
FROM head;

-- name: stats_status_since
-- Start of the current run: the first slot after the last slot whose status differs from
-- the newest one (run_start), found in the traced ranges [from, skip_from) and [skip_to, to)
-- (see stats_status_lookback); NULL when no other status since from. first_slot: the first
-- slot since from. Where either lies past the first range, it is the first slot at or after
-- skip_from (resumed; the skipped hours come before the second range): the first raw row
-- there, looked up per region (the index leads with monitor and region; regions lists every
-- region a result comes from) as one-row index probes, run only when needed.
WITH s AS MATERIALIZED (
    SELECT slot AS time, status
    FROM vigil_monitor_slots(%(monitor_id)s, %(from)s, least(%(skip_from)s::timestamptz, %(to)s::timestamptz),
                             %(region_id)s::smallint)
    UNION ALL
    SELECT slot, status FROM vigil_monitor_slots(%(monitor_id)s, %(skip_to)s, %(to)s, %(region_id)s::smallint)
), other AS (
    SELECT max(time) AS t FROM s WHERE status <> %(status)s
), resumed AS (
    SELECT min(f.t) AS t
    FROM regions g, LATERAL (SELECT min(r.time) AS t FROM check_results r
                             WHERE r.monitor_id = %(monitor_id)s AND r.region_id = g.id
                               AND r.time >= %(skip_from)s AND r.time < %(to)s) AS f
    WHERE %(region_id)s::smallint IS NULL OR g.id = %(region_id)s::smallint
)
SELECT CASE WHEN other.t < %(skip_from)s
            THEN coalesce((SELECT min(s.time) FROM s WHERE s.time > other.t AND s.time < %(skip_from)s),
                          (SELECT t FROM resumed))
            ELSE (SELECT min(s.time) FROM s WHERE s.time > other.t) END AS run_start,
       coalesce((SELECT min(s.time) FROM s WHERE s.time < %(skip_from)s), (SELECT t FROM resumed)) AS first_slot
FROM other;

-- name: stats_downtimes
-- Downtime periods of several monitors: maximal runs of down slots (gaps and islands over
-- the decided slots; missed slots neither break nor extend a run). A period ends at the first
-- up slot after it; one still down at the end of the window ends one interval after its last
-- down slot and is marked ongoing.
WITH s AS (
    SELECT monitor_id, slot AS time, status,
           row_number() OVER (PARTITION BY monitor_id ORDER BY slot)
             - row_number() OVER (PARTITION BY monitor_id, status ORDER BY slot) AS island
    FROM vigil_slots(%(ids)s::integer[], %(from)s, %(to)s, %(region_id)s::smallint)
    WHERE status <> 'missed'
), runs AS (
    SELECT monitor_id, status, min(time) AS started_at, max(time) AS last_slot, count(*) AS slots
    FROM s GROUP BY monitor_id, status, island
), periods AS (
    SELECT monitor_id, status, started_at, last_slot, slots,
           lead(started_at) OVER (PARTITION BY monitor_id ORDER BY started_at) AS next_start
    FROM runs
)
SELECT p.monitor_id, p.started_at,
       coalesce(p.next_start, p.last_slot + make_interval(secs => m.interval_s)) AS ended_at,
       p.next_start IS NULL AS ongoing, p.slots AS down_slots
FROM periods p
JOIN monitors m ON m.id = p.monitor_id
WHERE p.status = 'down'
ORDER BY p.monitor_id, p.started_at;
