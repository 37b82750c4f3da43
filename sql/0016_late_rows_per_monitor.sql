-- Late rows never cost history.
--
-- Before: a late row marked its whole hour dirty; the aggregator then deleted every monitor's
-- rollups of that hour and rebuilt them from check_results, and readers took the hour from
-- raw rows only. Once retention had dropped the hour's raw chunk, the raw rows were just the
-- late row: one backfilled result erased the hour for every monitor, for good.
--
-- Now:
-- * dirtiness is per (monitor, hour): a late row re-rolls its own monitor's hour (all its
--   regions and its region-0 row, which depends on every region), nobody else's;
-- * retention records how far each store is kept (retention_horizons); raw rows older than
--   the raw horizon are refused at write time (counted in refused_late_rows) because their
--   hour's other rows are gone and the rollup is all that remains of it;
-- * a dirty mark below the raw horizon (a late row accepted just before retention dropped its
--   chunk) is discarded by the aggregator: the rollup keeps what it had.

-- How far back each store still holds whole buckets: raw rows from kept_from on ('raw'),
-- hourly rollups ('1 hour'), daily rollups ('1 day'). Written by retention only; a missing
-- row means nothing was dropped yet.
CREATE TABLE retention_horizons (
    source     text PRIMARY KEY CHECK (source IN ('raw', '1 hour', '1 day')),
    kept_from  timestamptz NOT NULL
);

-- The three horizons as one row (NULL: nothing dropped from that store yet), for readers
-- that state which part of a window their figures cover.
CREATE VIEW retention_kept AS
SELECT max(kept_from) FILTER (WHERE source = 'raw') AS raw_from,
       max(kept_from) FILTER (WHERE source = '1 hour') AS hourly_from,
       max(kept_from) FILTER (WHERE source = '1 day') AS daily_from
FROM retention_horizons;

CREATE FUNCTION vigil_raw_kept_from() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT h.kept_from FROM retention_horizons h WHERE h.source = 'raw'), '-infinity')
$$;

-- Rows refused because their hour's raw rows were already dropped, per monitor and hour.
CREATE TABLE refused_late_rows (
    monitor_id        integer     NOT NULL,
    bucket            timestamptz NOT NULL,
    rows              bigint      NOT NULL,
    last_refused_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (monitor_id, bucket)
);

CREATE FUNCTION vigil_refuse_past_horizon() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.time < vigil_raw_kept_from() THEN
        INSERT INTO refused_late_rows AS r (monitor_id, bucket, rows)
        VALUES (NEW.monitor_id, time_bucket(interval '1 hour', NEW.time), 1)
        ON CONFLICT (monitor_id, bucket) DO UPDATE SET rows = r.rows + 1, last_refused_at = now();
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

-- Same cheap WHEN as the late-row marker: ordinary ingest never calls the function.
CREATE TRIGGER check_results_past_horizon BEFORE INSERT ON check_results
FOR EACH ROW WHEN (NEW.time < statement_timestamp() - interval '2 minutes')
EXECUTE FUNCTION vigil_refuse_past_horizon();

-- Dirty marks per monitor. Existing hour-wide marks become one mark per monitor with raw
-- rows in that hour (a monitor with none keeps its rollup as it is).
ALTER TABLE rollup_dirty RENAME TO rollup_dirty_hours;
CREATE TABLE rollup_dirty (
    monitor_id  integer     NOT NULL,
    bucket      timestamptz NOT NULL,
    marked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (monitor_id, bucket)
);
INSERT INTO rollup_dirty (monitor_id, bucket, marked_at)
SELECT DISTINCT c.monitor_id, d.bucket, d.marked_at
FROM rollup_dirty_hours d
JOIN check_results c ON c.time >= d.bucket AND c.time < d.bucket + interval '1 hour';
DROP TABLE rollup_dirty_hours;

CREATE OR REPLACE FUNCTION vigil_mark_late_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollup_dirty (monitor_id, bucket)
    VALUES (NEW.monitor_id, time_bucket(interval '1 hour', NEW.time))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

-- The window pieces with per-monitor dirtiness and the raw horizon:
-- * a day comes from rollup_1d unless one of the asked monitors has a dirty hour in it;
-- * an hour comes from rollup_1h except for the (monitor, hour) pairs that are dirty, which
--   come from raw rows of that monitor alone;
-- * dirty marks below the raw horizon are ignored (the rollup is all there is), and the
--   window's unaligned ends are read from raw only from the raw horizon on: a partial hour
--   whose raw rows are gone is not covered (the stats API says so in covered_from/_to).
CREATE OR REPLACE FUNCTION vigil_window_parts(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz,
                                              per_region boolean)
RETURNS TABLE (monitor_id integer, region_id smallint, slots bigint, up_slots bigint,
               down_slots bigint, missed_slots bigint, checks bigint, latency_min_us integer,
               latency_max_us integer, latency_sum_us bigint, hist vigil_hist)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    hourly_until timestamptz;
    daily_until  timestamptz;
    raw_from     timestamptz := vigil_raw_kept_from();
    lo           timestamptz;  -- [lo, hi): the hour-aligned middle that rollups may cover
    hi           timestamptz;
    dirty_m      integer[];     -- dirty (monitor, hour) pairs of the asked monitors, as
    dirty_h      timestamptz[]; -- parallel arrays
    days         timestamptz[];
    hours        timestamptz[];
    rng          record;
    scans        text[] := '{}';  -- one range scan of check_results per raw piece
    t  timestamptz[];               -- their rows, as parallel arrays
    m  integer[];
    rg smallint[];
    u  boolean[];
    ek smallint[];
    lt integer[];
BEGIN
    SELECT coalesce(max(s.rolled_until) FILTER (WHERE s.width = interval '1 hour'), '-infinity'),
           coalesce(max(s.rolled_until) FILTER (WHERE s.width = interval '1 day'), '-infinity')
    INTO hourly_until, daily_until FROM rollup_state s;
    lo := least(time_bucket(interval '1 hour', from_ts + interval '1 hour' - interval '1 microsecond'), to_ts);
    hi := greatest(lo, least(time_bucket(interval '1 hour', to_ts), hourly_until));
    SELECT coalesce(array_agg(d.monitor_id ORDER BY d.bucket, d.monitor_id), '{}'),
           coalesce(array_agg(d.bucket ORDER BY d.bucket, d.monitor_id), '{}')
    INTO dirty_m, dirty_h
    FROM rollup_dirty d
    WHERE d.monitor_id = ANY (monitor_ids) AND d.bucket >= greatest(lo, raw_from) AND d.bucket < hi;
    SELECT coalesce(array_agg(g.day), '{}') INTO days
    FROM generate_series(time_bucket(interval '1 day', lo + interval '1 day' - interval '1 microsecond'),
                         least(hi, daily_until) - interval '1 day', interval '1 day') AS g(day)
    WHERE NOT EXISTS (SELECT 1 FROM unnest(dirty_h) AS x(h) WHERE x.h >= g.day AND x.h < g.day + interval '1 day');

    RETURN QUERY
    SELECT r.monitor_id, r.region_id, r.slots::bigint, r.up_slots::bigint, r.down_slots::bigint,
           r.missed_slots::bigint, r.checks::bigint, r.latency_min_us, r.latency_max_us,
           r.latency_sum_us, r.hist
    FROM rollup_1d r
    WHERE r.monitor_id = ANY (monitor_ids) AND r.bucket = ANY (days)
      AND r.region_id BETWEEN CASE WHEN per_region THEN 1 ELSE 0 END AND CASE WHEN per_region THEN 32767 ELSE 0 END;

    -- The hours left between the days, listed, so the index finds exactly them; the dirty
    -- (monitor, hour) pairs among them are left out here and read from raw below.
    SELECT coalesce(array_agg(g.h), '{}') INTO hours
    FROM generate_series(lo, hi - interval '1 hour', interval '1 hour') AS g(h)
    WHERE NOT time_bucket(interval '1 day', g.h) = ANY (days);
    -- Dynamic, so planned with its bounds: measured faster than a cached generic plan's
    -- run-time chunk exclusion on the hypertable (0.33 against 0.6 ms).
    RETURN QUERY EXECUTE
        'SELECT r.monitor_id, r.region_id, r.slots::bigint, r.up_slots::bigint, r.down_slots::bigint, '
        'r.missed_slots::bigint, r.checks::bigint, r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist '
        'FROM rollup_1h r WHERE r.monitor_id = ANY ($1) AND r.region_id BETWEEN $2 AND $3 '
        'AND r.bucket = ANY ($4) AND r.bucket >= $5 AND r.bucket < $6 '
        'AND NOT EXISTS (SELECT 1 FROM unnest($7::integer[], $8::timestamptz[]) AS d(m, h) '
        '                WHERE d.m = r.monitor_id AND d.h = r.bucket)'
        USING monitor_ids, CASE WHEN per_region THEN 1 ELSE 0 END, CASE WHEN per_region THEN 32767 ELSE 0 END,
              hours, lo, hi, dirty_m, dirty_h;

    -- Raw rows: one plain range scan per piece, all in one statement planned with the
    -- bounds as constants (chunk exclusion at plan time). The window's ends are read from
    -- the raw horizon on; a dirty hour is read for its dirty monitors only.
    FOR rng IN
        SELECT greatest(v.s, raw_from) AS s, v.e, NULL::integer[] AS ids
        FROM (VALUES (from_ts, lo), (hi, to_ts)) AS v(s, e) WHERE greatest(v.s, raw_from) < v.e
        UNION ALL
        SELECT x.h, x.h + interval '1 hour', array_agg(x.m)
        FROM unnest(dirty_m, dirty_h) AS x(m, h) GROUP BY x.h
    LOOP
        scans := scans || format('SELECT c.time, c.monitor_id, c.region_id, c.up, c.error_kind, c.latency_us '
                                 'FROM check_results c WHERE c.monitor_id = ANY (%s) '
                                 'AND c.time >= %L::timestamptz AND c.time < %L::timestamptz',
                                 coalesce(quote_literal(rng.ids) || '::integer[]', '$1'), rng.s, rng.e);
    END LOOP;
    IF cardinality(scans) > 0 THEN
        EXECUTE 'SELECT array_agg(x.time), array_agg(x.monitor_id), array_agg(x.region_id), array_agg(x.up), '
                'array_agg(x.error_kind), array_agg(x.latency_us) FROM (' || array_to_string(scans, ' UNION ALL ') || ') AS x'
            INTO t, m, rg, u, ek, lt USING monitor_ids;
    END IF;
    IF t IS NOT NULL THEN
        RETURN QUERY
        SELECT x.monitor_id, x.region_id, x.slots, x.up_slots, x.down_slots, x.missed_slots,
               x.checks, x.latency_min_us, x.latency_max_us, x.latency_sum_us, x.hist
        FROM vigil_raw_rows_stats(t, m, rg, u, ek, lt, per_region) AS x;
    END IF;
END
$$;
