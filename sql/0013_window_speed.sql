-- Faster window reads (docs/benchmarks.md "Queries", where the time goes). Same answers as 0003.
--
-- Measured on 30-day windows of one monitor: vigil_window_parts spent most of its ~3.5 ms
-- planning, not executing. Each raw piece (the window's unaligned head, the open hour, a
-- dirty hour) was an EXECUTE of vigil_raw_stats, whose eight-CTE body was inlined, parsed
-- and planned afresh on the hypertable every call (~1-1.5 ms each) to aggregate a few
-- dozen rows. Now the raw rows of every raw piece are read by one plain index range
-- scan per piece (planned with its bounds as constants, so chunk exclusion happens at
-- plan time: ~0.1 ms), and the statistics are computed once over those rows by
-- vigil_raw_rows_stats, whose plan PL/pgSQL caches for the session.

-- Statistics of the given raw rows (parallel arrays, one element per check_results row),
-- as vigil_raw_stats computes them from the table (same rule, same figures; tests compare
-- the window functions against exact answers from raw rows): per_region true gives the
-- per-region rows, false the region_id 0 rows under the quorum rule, so a window computes
-- only the half it asks for. PL/pgSQL so both plans are cached for the session.
CREATE FUNCTION vigil_raw_rows_stats(times timestamptz[], monitor_ids integer[], region_ids smallint[],
                                     ups boolean[], error_kinds smallint[], latencies integer[],
                                     per_region boolean)
RETURNS TABLE (bucket timestamptz, monitor_id integer, region_id smallint, slots bigint,
               up_slots bigint, down_slots bigint, missed_slots bigint, checks bigint,
               latency_min_us integer, latency_max_us integer, latency_sum_us bigint,
               hist vigil_hist)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    IF per_region THEN
        RETURN QUERY
        WITH r AS (
            SELECT time_bucket(interval '1 hour', u.time) AS bucket, u.monitor_id, u.region_id, u.up,
                   u.latency_us, NOT u.up AND u.error_kind <> 13 AS down, NOT u.up AND u.error_kind = 13 AS missed
            FROM unnest(times, monitor_ids, region_ids, ups, error_kinds, latencies)
                 AS u(time, monitor_id, region_id, up, error_kind, latency_us)),
        -- At most 360 results per hour and region: each count packs into one entry.
        h AS (
            SELECT b.bucket, b.monitor_id, b.region_id, array_agg((b.k + 2048 * b.c)::integer ORDER BY b.k) AS hist
            FROM (SELECT r.bucket, r.monitor_id, r.region_id, vigil_hist_index(r.latency_us) AS k, count(*) AS c
                  FROM r WHERE r.up GROUP BY 1, 2, 3, 4) AS b
            GROUP BY 1, 2, 3)
        SELECT c.bucket, c.monitor_id, c.region_id, c.slots, c.up_slots, c.down_slots, c.missed_slots,
               c.checks, c.latency_min_us, c.latency_max_us, c.latency_sum_us, coalesce(h.hist, '{}')::vigil_hist
        FROM (SELECT r.bucket, r.monitor_id, r.region_id,
                     count(*) AS slots, count(*) FILTER (WHERE r.up) AS up_slots,
                     count(*) FILTER (WHERE r.down) AS down_slots,
                     count(*) FILTER (WHERE r.missed) AS missed_slots,
                     count(*) FILTER (WHERE NOT r.missed) AS checks,
                     min(r.latency_us) FILTER (WHERE r.up) AS latency_min_us,
                     max(r.latency_us) FILTER (WHERE r.up) AS latency_max_us,
                     coalesce(sum(r.latency_us) FILTER (WHERE r.up), 0)::bigint AS latency_sum_us
              FROM r GROUP BY 1, 2, 3) AS c
        LEFT JOIN h USING (bucket, monitor_id, region_id);
    ELSE
        RETURN QUERY
        WITH r AS (
            SELECT u.time, u.monitor_id, u.up, u.latency_us,
                   NOT u.up AND u.error_kind <> 13 AS down, NOT u.up AND u.error_kind = 13 AS missed
            FROM unnest(times, monitor_ids, region_ids, ups, error_kinds, latencies)
                 AS u(time, monitor_id, region_id, up, error_kind, latency_us)),
        -- Counts per latency bucket over all regions: at most 360 per hour and region.
        h AS (
            SELECT b.bucket, b.monitor_id, array_agg((b.k + 2048 * b.c)::integer ORDER BY b.k) AS hist
            FROM (SELECT time_bucket(interval '1 hour', r.time) AS bucket, r.monitor_id,
                         vigil_hist_index(r.latency_us) AS k, count(*) AS c
                  FROM r WHERE r.up GROUP BY 1, 2, 3) AS b
            GROUP BY 1, 2),
        c AS (
            SELECT time_bucket(interval '1 hour', r.time) AS bucket, r.monitor_id,
                   count(*) FILTER (WHERE NOT r.missed) AS checks,
                   min(r.latency_us) FILTER (WHERE r.up) AS latency_min_us,
                   max(r.latency_us) FILTER (WHERE r.up) AS latency_max_us,
                   coalesce(sum(r.latency_us) FILTER (WHERE r.up), 0)::bigint AS latency_sum_us
            FROM r GROUP BY 1, 2),
        q AS (
            SELECT time_bucket(interval '1 hour', s.time) AS bucket, s.monitor_id, count(*) AS slots,
                   count(*) FILTER (WHERE s.n_up + s.n_down >= coalesce(k.k, 1) AND s.n_down < coalesce(k.k, 1)) AS up_slots,
                   count(*) FILTER (WHERE s.n_down >= coalesce(k.k, 1)) AS down_slots,
                   count(*) FILTER (WHERE s.n_up + s.n_down < coalesce(k.k, 1)) AS missed_slots
            FROM (SELECT r.monitor_id, r.time, count(*) FILTER (WHERE r.up) AS n_up,
                         count(*) FILTER (WHERE r.down) AS n_down
                  FROM r GROUP BY 1, 2) AS s
            LEFT JOIN (SELECT m.id, m.region_quorum AS k FROM monitors m WHERE m.id = ANY (monitor_ids)) AS k
                   ON k.id = s.monitor_id
            GROUP BY 1, 2)
        SELECT q.bucket, q.monitor_id, 0::smallint, q.slots, q.up_slots, q.down_slots, q.missed_slots,
               c.checks, c.latency_min_us, c.latency_max_us, c.latency_sum_us, coalesce(h.hist, '{}')::vigil_hist
        FROM q JOIN c USING (bucket, monitor_id) LEFT JOIN h USING (bucket, monitor_id);
    END IF;
END
$$;

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
    lo           timestamptz;  -- [lo, hi): the hour-aligned middle that rollups may cover
    hi           timestamptz;
    dirty        timestamptz[];
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
    SELECT coalesce(array_agg(d.bucket ORDER BY d.bucket), '{}') INTO dirty
    FROM rollup_dirty d WHERE d.bucket >= lo AND d.bucket < hi;
    SELECT coalesce(array_agg(g.day), '{}') INTO days
    FROM generate_series(time_bucket(interval '1 day', lo + interval '1 day' - interval '1 microsecond'),
                         least(hi, daily_until) - interval '1 day', interval '1 day') AS g(day)
    WHERE NOT EXISTS (SELECT 1 FROM unnest(dirty) AS x(h) WHERE x.h >= g.day AND x.h < g.day + interval '1 day');

    RETURN QUERY
    SELECT r.monitor_id, r.region_id, r.slots::bigint, r.up_slots::bigint, r.down_slots::bigint,
           r.missed_slots::bigint, r.checks::bigint, r.latency_min_us, r.latency_max_us,
           r.latency_sum_us, r.hist
    FROM rollup_1d r
    WHERE r.monitor_id = ANY (monitor_ids) AND r.bucket = ANY (days)
      AND r.region_id BETWEEN CASE WHEN per_region THEN 1 ELSE 0 END AND CASE WHEN per_region THEN 32767 ELSE 0 END;

    -- The hours left between the days, listed, so the index finds exactly them.
    SELECT coalesce(array_agg(g.h), '{}') INTO hours
    FROM generate_series(lo, hi - interval '1 hour', interval '1 hour') AS g(h)
    WHERE NOT time_bucket(interval '1 day', g.h) = ANY (days) AND NOT g.h = ANY (dirty);
    -- Dynamic, so planned with its bounds: measured faster than a cached generic plan's
    -- run-time chunk exclusion on the hypertable (0.33 against 0.6 ms).
    RETURN QUERY EXECUTE
        'SELECT r.monitor_id, r.region_id, r.slots::bigint, r.up_slots::bigint, r.down_slots::bigint, '
        'r.missed_slots::bigint, r.checks::bigint, r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist '
        'FROM rollup_1h r WHERE r.monitor_id = ANY ($1) AND r.region_id BETWEEN $2 AND $3 '
        'AND r.bucket = ANY ($4) AND r.bucket >= $5 AND r.bucket < $6'
        USING monitor_ids, CASE WHEN per_region THEN 1 ELSE 0 END, CASE WHEN per_region THEN 32767 ELSE 0 END,
              hours, lo, hi;

    -- Raw rows: one plain range scan per piece, all in one statement planned with the
    -- bounds as constants (chunk exclusion at plan time, ~0.1 ms), instead of planning
    -- vigil_raw_stats' body per piece (~1 ms each). (An OR of the ranges plans 5x slower.)
    FOR rng IN
        SELECT v.s, v.e FROM (VALUES (from_ts, lo), (hi, to_ts)) AS v(s, e) WHERE v.s < v.e
        UNION ALL
        SELECT x.h, x.h + interval '1 hour' FROM unnest(dirty) AS x(h)
    LOOP
        scans := scans || format('SELECT c.time, c.monitor_id, c.region_id, c.up, c.error_kind, c.latency_us '
                                 'FROM check_results c WHERE c.monitor_id = ANY ($1) '
                                 'AND c.time >= %L::timestamptz AND c.time < %L::timestamptz', rng.s, rng.e);
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
