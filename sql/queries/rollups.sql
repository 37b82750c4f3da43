-- name: window_read
-- A window as planned (aggregator/window_plan.py) in one row: first what the plan depends on
-- and the rolled pieces (vigil_window_rolled in sql/functions/windows.sql), then the raw rows
-- of the raw ranges (window_raw_range, one per range, joined by UNION ALL in place of the
-- ranges marker) as arrays, which load straight into numpy. One statement, never prepared:
-- the raw ranges are planned with their bounds (chunk exclusion at plan time), and the
-- function's own plan is cached for the session all the same. Both parts see one snapshot.
SELECT * FROM vigil_window_rolled(%(ids)s::integer[], %(from_ts)s, %(to_ts)s, %(planned_ids)s::integer[],
                                  %(four_week_m)s::integer[], %(four_week_from)s::timestamptz[], %(four_week_to)s::timestamptz[],
                                  %(week_m)s::integer[], %(week_from)s::timestamptz[], %(week_to)s::timestamptz[],
                                  %(day_m)s::integer[], %(day_from)s::timestamptz[], %(day_to)s::timestamptz[],
                                  %(hour_m)s::integer[], %(hour_from)s::timestamptz[], %(hour_to)s::timestamptz[],
                                  %(per_region)s) AS rolled,
     (SELECT array_agg(c.monitor_id), array_agg(c.region_id), array_agg(c.time), array_agg(c.up),
             array_agg(c.error_kind), array_agg(c.latency_us)
      FROM ({ranges}) AS c) AS raw;

-- name: window_raw_range
-- One range of raw rows: a plain index range scan; the n marker numbers its parameters.
SELECT c.monitor_id, c.region_id, c.time, c.up, c.error_kind, c.latency_us
FROM check_results c
WHERE c.monitor_id = ANY (%(ids{n})s::integer[]) AND c.time >= %(start{n})s AND c.time < %(end{n})s;

-- name: rollup_lock
-- Serialises aggregators: a second one waits, then finds the work done.
SELECT pg_advisory_xact_lock(%(key)s);

-- name: rollup_watermarks
SELECT (SELECT rolled_until FROM rollup_state WHERE width = '1 hour') AS hourly,
       (SELECT rolled_until FROM rollup_state WHERE width = '1 day') AS daily,
       (SELECT time_bucket('1 day', min(range_start)) FROM timescaledb_information.chunks
        WHERE hypertable_schema = 'public' AND hypertable_name = 'check_results') AS first_day,
       time_bucket('1 hour', now() - make_interval(secs => %(roll_delay_s)s)) AS due_until;

-- name: rollup_set_watermark
INSERT INTO rollup_state (width, rolled_until) VALUES (%(width)s::interval, %(until)s)
ON CONFLICT (width) DO UPDATE SET rolled_until = EXCLUDED.rolled_until;

-- name: rollup_take_dirty
-- Taken before the roll reads raw rows: a marker committed after this stays for next time.
-- stale: the hour's raw rows were dropped by retention after the mark, so the rollup is all
-- that is left of it and must not be rebuilt from raw.
DELETE FROM rollup_dirty WHERE bucket < %(until)s
RETURNING monitor_id, bucket, bucket < vigil_raw_kept_from() AS stale;

-- name: rollup_clear_dirty_range
DELETE FROM rollup_dirty WHERE bucket >= %(from_ts)s AND bucket < %(to_ts)s;

-- name: rollup_clear_hours
-- monitor_ids NULL = every monitor (a first roll), else the re-rolled monitors only.
DELETE FROM rollup_1h WHERE bucket >= %(from_ts)s AND bucket < %(to_ts)s
  AND (%(ids)s::integer[] IS NULL OR monitor_id = ANY (%(ids)s::integer[]));

-- name: rollup_hours
-- Every hour bucket in [from_ts, to_ts), all monitors (ids NULL) or the given ones, with all
-- their regions, in one statement.
INSERT INTO rollup_1h (bucket, monitor_id, region_id, slots, up_slots, down_slots, missed_slots,
                       checks, latency_min_us, latency_max_us, latency_sum_us,
                       p50_us, p90_us, p95_us, p99_us, hist)
SELECT s.bucket, s.monitor_id, s.region_id, s.slots, s.up_slots, s.down_slots, s.missed_slots,
       s.checks, s.latency_min_us, s.latency_max_us, s.latency_sum_us, q[1], q[2], q[3], q[4], s.hist
FROM vigil_raw_stats(%(ids)s::integer[], %(from_ts)s, %(to_ts)s) AS s,
     LATERAL vigil_hist_quantiles(s.hist, '{0.5,0.9,0.95,0.99}') AS q;

-- name: rollup_clear_level
-- {target}: rollup_1d, rollup_7d or rollup_28d (aggregator.rollup.LEVELS).
DELETE FROM {target} WHERE bucket >= %(from_ts)s AND bucket < %(to_ts)s
  AND (%(ids)s::integer[] IS NULL OR monitor_id = ANY (%(ids)s::integer[]));

-- name: rollup_level
-- Rollups of width {width} in [from_ts, to_ts), merged from the next finer ones ({source}:
-- days from hours, weeks from days, four weeks from weeks), all monitors or the given ones.
INSERT INTO {target} (bucket, monitor_id, region_id, slots, up_slots, down_slots, missed_slots,
                      checks, latency_min_us, latency_max_us, latency_sum_us,
                      p50_us, p90_us, p95_us, p99_us, hist)
SELECT d.bucket, d.monitor_id, d.region_id, d.slots, d.up_slots, d.down_slots, d.missed_slots,
       d.checks, d.latency_min_us, d.latency_max_us, d.latency_sum_us, q[1], q[2], q[3], q[4], d.hist
FROM (SELECT time_bucket('{width}', h.bucket) AS bucket, h.monitor_id, h.region_id,
             sum(h.slots) AS slots, sum(h.up_slots) AS up_slots, sum(h.down_slots) AS down_slots,
             sum(h.missed_slots) AS missed_slots, sum(h.checks) AS checks,
             min(h.latency_min_us) AS latency_min_us, max(h.latency_max_us) AS latency_max_us,
             sum(h.latency_sum_us) AS latency_sum_us, vigil_hist_merge(h.hist) AS hist
      FROM {source} h
      WHERE h.bucket >= %(from_ts)s AND h.bucket < %(to_ts)s
        AND (%(ids)s::integer[] IS NULL OR h.monitor_id = ANY (%(ids)s::integer[]))
      GROUP BY 1, 2, 3) AS d,
     LATERAL vigil_hist_quantiles(d.hist, '{0.5,0.9,0.95,0.99}') AS q;

-- name: rollup_level_watermarks
-- How far each width is rolled (rollup_state) and where its source begins.
SELECT s.width, s.rolled_until FROM rollup_state s;

-- name: rollup_first_bucket
SELECT min(bucket) FROM {source};

-- name: drop_raw_chunks
SELECT count(*) FROM drop_chunks('check_results', older_than => %(older_than)s::timestamptz);

-- name: drop_hourly_chunks
SELECT count(*) FROM drop_chunks('rollup_1h', older_than => %(older_than)s::timestamptz);

-- name: delete_old_daily
-- The daily rollups, and the weekly and four-weekly blocks, that start before the cut.
WITH weeks AS (DELETE FROM rollup_7d WHERE bucket < %(older_than)s),
     four_weeks AS (DELETE FROM rollup_28d WHERE bucket < %(older_than)s)
DELETE FROM rollup_1d WHERE bucket < %(older_than)s;

-- name: closed_raw_chunks_to_pack
-- Raw chunks that ended more than an hour ago (late rows are rare after that) and whose
-- index has not been rebuilt yet, oldest first, with their indexes.
SELECT format('%%I.%%I', c.chunk_schema, c.chunk_name) AS chunk,
       array_agg(i.indexrelid::regclass::text) AS indexes
FROM timescaledb_information.chunks c
JOIN pg_index i ON i.indrelid = format('%%I.%%I', c.chunk_schema, c.chunk_name)::regclass
WHERE c.hypertable_name = 'check_results'
  AND c.range_end < %(closed_before)s
  AND NOT EXISTS (SELECT 1 FROM packed_chunks p
                  WHERE p.chunk = format('%%I.%%I', c.chunk_schema, c.chunk_name))
GROUP BY 1, c.range_end
ORDER BY c.range_end
LIMIT %(limit)s;

-- name: record_packed_chunk
INSERT INTO packed_chunks (chunk, index_bytes_before, index_bytes_after)
VALUES (%(chunk)s, %(before)s, %(after)s)
ON CONFLICT (chunk) DO NOTHING;

-- name: forget_dropped_chunks
DELETE FROM packed_chunks p WHERE to_regclass(p.chunk) IS NULL;

-- name: retention_raw_cut
-- Raw rows are dropped up to now - retention, never past the hourly watermark (not rolled
-- yet) nor a pending dirty mark (its re-roll needs the hour's raw rows).
SELECT least(%(older_than)s::timestamptz,
             (SELECT rolled_until FROM rollup_state WHERE width = '1 hour'),
             (SELECT min(bucket) FROM rollup_dirty WHERE bucket >= vigil_raw_kept_from())) AS cut;

-- name: chunks_end_before
-- The end of the newest chunk of a hypertable that drop_chunks(older_than) will drop.
SELECT max(c.range_end) AS kept_from
FROM timescaledb_information.chunks c
WHERE c.hypertable_schema = 'public' AND c.hypertable_name = %(hypertable)s
  AND format('%%I.%%I', c.chunk_schema, c.chunk_name)::regclass
      IN (SELECT show_chunks(%(hypertable)s::regclass, older_than => %(older_than)s::timestamptz));

-- name: advance_horizon
-- Everything before kept_from is gone from this store, rounded up to its bucket width (an
-- hour or day with some of its rows dropped is no longer whole).
INSERT INTO retention_horizons (source, kept_from)
VALUES (%(source)s, time_bucket(%(width)s::interval,
                                %(kept_from)s::timestamptz + %(width)s::interval - interval '1 microsecond'))
ON CONFLICT (source) DO UPDATE SET kept_from = greatest(retention_horizons.kept_from, EXCLUDED.kept_from);
