-- vigil_window_parts as the first rollups migration wrote it, before the raw pieces were read
-- by one range scan each: kept for `python -m benchmarks.queries --compare`, which creates it in
-- its throwaway database as vigil_window_parts_0003. Not part of the schema.
-- The pieces a window [from_ts, to_ts) is made of, unmerged: daily rollups for whole days
-- that are rolled and clean, hourly rollups for other rolled clean hours, raw statistics
-- for the rest (the head and tail of the window, the open hour, dirty hours).
-- per_region false: region_id 0 rows only; true: per-region rows only.
-- PL/pgSQL so each raw range is planned with its bounds known: a generic plan over the
-- hypertable pays run-time chunk exclusion on every chunk, ten times the whole query.
CREATE FUNCTION vigil_window_parts(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz,
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
    RETURN QUERY EXECUTE
        'SELECT r.monitor_id, r.region_id, r.slots::bigint, r.up_slots::bigint, r.down_slots::bigint, '
        'r.missed_slots::bigint, r.checks::bigint, r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist '
        'FROM rollup_1h r WHERE r.monitor_id = ANY ($1) AND r.region_id BETWEEN $2 AND $3 '
        'AND r.bucket = ANY ($4) AND r.bucket >= $5 AND r.bucket < $6'
        USING monitor_ids, CASE WHEN per_region THEN 1 ELSE 0 END, CASE WHEN per_region THEN 32767 ELSE 0 END,
              hours, lo, hi;

    FOR rng IN
        SELECT v.s, v.e FROM (VALUES (from_ts, lo), (hi, to_ts)) AS v(s, e) WHERE v.s < v.e
        UNION ALL
        SELECT x.h, x.h + interval '1 hour' FROM unnest(dirty) AS x(h)
    LOOP
        RETURN QUERY EXECUTE
            'SELECT x.monitor_id, x.region_id, x.slots, x.up_slots, x.down_slots, x.missed_slots, '
            'x.checks, x.latency_min_us, x.latency_max_us, x.latency_sum_us, x.hist '
            'FROM vigil_raw_stats($1, $2, $3) AS x WHERE (x.region_id <> 0) = $4'
            USING monitor_ids, rng.s, rng.e, per_region;
    END LOOP;
END
$$;
