-- Window statistics: uptime and latency over any [from_ts, to_ts), from daily and hourly
-- rollups where they are complete and clean, and from raw rows for the rest
-- (docs/analytics.md). Tables rollup_1h, rollup_1d, rollup_state and rollup_dirty are in
-- the migrations; the aggregator materialises vigil_raw_stats into the rollups.
--
-- Slots are judged by vigil_slot_status (slots.sql), an IMMUTABLE single-SELECT SQL function
-- the planner inlines (EXPLAIN VERBOSE shows its CASE, no function call). Each slot's status
-- is computed in a subquery kept apart by OFFSET 0: without it the planner pulls the subquery
-- up and copies the CASE into each of the three count filters, judging every slot three
-- times. Measured on 2M synthetic slots: 204 ns a slot against 187 ns for the comparisons
-- written out inline (213 without OFFSET 0). A slot of a monitor without a row in monitors
-- keeps quorum 1.

-- Statistics straight from raw rows in [from_ts, to_ts), one row per (hour, monitor,
-- region) plus region_id 0 rows under the quorum rule. monitor_ids NULL = every monitor.
-- The aggregator materialises this per hour; the window functions use it for the parts
-- of a window not rolled up yet.
CREATE OR REPLACE FUNCTION vigil_raw_stats(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (bucket timestamptz, monitor_id integer, region_id smallint, slots bigint,
               up_slots bigint, down_slots bigint, missed_slots bigint, checks bigint,
               latency_min_us integer, latency_max_us integer, latency_sum_us bigint,
               hist vigil_hist)
LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT c.time, c.monitor_id, c.region_id, c.up, c.latency_us,
               vigil_result_down(c.up, c.error_kind) AS down,
               NOT c.up AND c.error_kind = vigil_missed_kind() AS missed
        FROM check_results c
        WHERE (monitor_ids IS NULL OR c.monitor_id = ANY (monitor_ids))
          AND c.time >= from_ts AND c.time < to_ts),
    -- Counts per latency bucket: at most 360 per hour and region (interval >= 10 s), so
    -- each packs into one entry and array_agg ordered by index is the canonical form.
    bk AS (
        SELECT time_bucket(interval '1 hour', r.time) AS bucket, r.monitor_id, r.region_id,
               vigil_hist_index(r.latency_us) AS k, count(*) AS c
        FROM r WHERE r.up GROUP BY 1, 2, 3, 4),
    hist_region AS (
        SELECT bk.bucket, bk.monitor_id, bk.region_id, array_agg(vigil_hist_entry(bk.k, bk.c) ORDER BY bk.k) AS hist
        FROM bk GROUP BY 1, 2, 3),
    hist_monitor AS (
        SELECT m.bucket, m.monitor_id, array_agg(vigil_hist_entry(m.k, m.c) ORDER BY m.k) AS hist
        FROM (SELECT bk.bucket, bk.monitor_id, bk.k, sum(bk.c)::bigint AS c FROM bk GROUP BY 1, 2, 3) AS m
        GROUP BY 1, 2),
    counts AS (
        SELECT time_bucket(interval '1 hour', r.time) AS bucket, r.monitor_id, r.region_id,
               count(*) AS slots, count(*) FILTER (WHERE r.up) AS up_slots,
               count(*) FILTER (WHERE r.down) AS down_slots,
               count(*) FILTER (WHERE r.missed) AS missed_slots,
               count(*) FILTER (WHERE NOT r.missed) AS checks,
               min(r.latency_us) FILTER (WHERE r.up) AS latency_min_us,
               max(r.latency_us) FILTER (WHERE r.up) AS latency_max_us,
               coalesce(sum(r.latency_us) FILTER (WHERE r.up), 0)::bigint AS latency_sum_us
        FROM r GROUP BY 1, 2, 3),
    slot AS (
        SELECT r.monitor_id, r.time, count(*) FILTER (WHERE r.up) AS n_up,
               count(*) FILTER (WHERE r.down) AS n_down
        FROM r GROUP BY 1, 2),
    quorum AS (
        SELECT j.bucket, j.monitor_id, count(*) AS slots,
               count(*) FILTER (WHERE j.status = 'up') AS up_slots,
               count(*) FILTER (WHERE j.status = 'down') AS down_slots,
               count(*) FILTER (WHERE j.status = 'missed') AS missed_slots
        FROM (SELECT time_bucket(interval '1 hour', s.time) AS bucket, s.monitor_id,
                     vigil_slot_status(s.n_down, s.n_up + s.n_down, coalesce(k.k, 1)) AS status
              FROM slot s
              LEFT JOIN (SELECT m.id, m.region_quorum AS k FROM monitors m) AS k ON k.id = s.monitor_id
              OFFSET 0) AS j  -- judged once per slot: OFFSET 0 keeps the CASE out of each count
        GROUP BY 1, 2)
    SELECT c.bucket, c.monitor_id, c.region_id, c.slots, c.up_slots, c.down_slots, c.missed_slots,
           c.checks, c.latency_min_us, c.latency_max_us, c.latency_sum_us,
           coalesce(h.hist, '{}')::vigil_hist
    FROM counts c LEFT JOIN hist_region h USING (bucket, monitor_id, region_id)
    UNION ALL
    SELECT q.bucket, q.monitor_id, 0::smallint, q.slots, q.up_slots, q.down_slots, q.missed_slots,
           c.checks, c.latency_min_us, c.latency_max_us, c.latency_sum_us,
           coalesce(h.hist, '{}')::vigil_hist
    FROM quorum q
    JOIN (SELECT c.bucket, c.monitor_id, sum(c.checks)::bigint AS checks,
                 min(c.latency_min_us) AS latency_min_us, max(c.latency_max_us) AS latency_max_us,
                 sum(c.latency_sum_us)::bigint AS latency_sum_us
          FROM counts c GROUP BY 1, 2) AS c USING (bucket, monitor_id)
    LEFT JOIN hist_monitor h USING (bucket, monitor_id)
$$;

-- Statistics of the given raw rows (parallel arrays, one element per check_results row),
-- as vigil_raw_stats computes them from the table (same rule, same figures; tests compare
-- the window functions against exact answers from raw rows): per_region true gives the
-- per-region rows, false the region_id 0 rows under the quorum rule, so a window computes
-- only the half it asks for. PL/pgSQL so both plans are cached for the session.
-- vigil_raw_stats keeps its own body rather than passing its rows through this one: the
-- aggregator rolls a day of every monitor in one statement, and those rows as arrays would
-- all be held in memory at once.
CREATE OR REPLACE FUNCTION vigil_raw_rows_stats(times timestamptz[], monitor_ids integer[], region_ids smallint[],
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
                   u.latency_us, vigil_result_down(u.up, u.error_kind) AS down, NOT u.up AND u.error_kind = vigil_missed_kind() AS missed
            FROM unnest(times, monitor_ids, region_ids, ups, error_kinds, latencies)
                 AS u(time, monitor_id, region_id, up, error_kind, latency_us)),
        -- At most 360 results per hour and region: each count packs into one entry.
        h AS (
            SELECT b.bucket, b.monitor_id, b.region_id, array_agg(vigil_hist_entry(b.k, b.c) ORDER BY b.k) AS hist
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
                   vigil_result_down(u.up, u.error_kind) AS down, NOT u.up AND u.error_kind = vigil_missed_kind() AS missed
            FROM unnest(times, monitor_ids, region_ids, ups, error_kinds, latencies)
                 AS u(time, monitor_id, region_id, up, error_kind, latency_us)),
        -- Counts per latency bucket over all regions: at most 360 per hour and region.
        h AS (
            SELECT b.bucket, b.monitor_id, array_agg(vigil_hist_entry(b.k, b.c) ORDER BY b.k) AS hist
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
            SELECT j.bucket, j.monitor_id, count(*) AS slots,
                   count(*) FILTER (WHERE j.status = 'up') AS up_slots,
                   count(*) FILTER (WHERE j.status = 'down') AS down_slots,
                   count(*) FILTER (WHERE j.status = 'missed') AS missed_slots
            FROM (SELECT time_bucket(interval '1 hour', s.time) AS bucket, s.monitor_id,
                         vigil_slot_status(s.n_down, s.n_up + s.n_down, coalesce(k.k, 1)) AS status
                  FROM (SELECT r.monitor_id, r.time, count(*) FILTER (WHERE r.up) AS n_up,
                               count(*) FILTER (WHERE r.down) AS n_down
                        FROM r GROUP BY 1, 2) AS s
                  LEFT JOIN (SELECT m.id, m.region_quorum AS k FROM monitors m WHERE m.id = ANY (monitor_ids)) AS k
                         ON k.id = s.monitor_id
                  OFFSET 0) AS j  -- judged once per slot: OFFSET 0 keeps the CASE out of each count
            GROUP BY 1, 2)
        SELECT q.bucket, q.monitor_id, 0::smallint, q.slots, q.up_slots, q.down_slots, q.missed_slots,
               c.checks, c.latency_min_us, c.latency_max_us, c.latency_sum_us, coalesce(h.hist, '{}')::vigil_hist
        FROM q JOIN c USING (bucket, monitor_id) LEFT JOIN h USING (bucket, monitor_id);
    END IF;
END
$$;

-- The pieces a window [from_ts, to_ts) is made of, unmerged: daily rollups for whole days
-- that are rolled and clean, hourly rollups for other rolled clean hours, raw statistics
-- for the rest (the head and tail of the window, the open hour, dirty hours).
-- per_region false: region_id 0 rows only; true: per-region rows only. With per-monitor
-- dirtiness and the raw horizon:
-- * a day comes from rollup_1d unless one of the asked monitors has a dirty hour in it;
-- * an hour comes from rollup_1h except for the (monitor, hour) pairs that are dirty, which
--   come from raw rows of that monitor alone;
-- * dirty marks below the raw horizon are ignored (the rollup is all there is), and the
--   window's unaligned ends are read from raw only from the raw horizon on: a partial hour
--   whose raw rows are gone is not covered (the stats API says so in covered_from/_to).
-- PL/pgSQL so each raw range is planned with its bounds known: a generic plan over the
-- hypertable pays run-time chunk exclusion on every chunk, ten times the whole query. The
-- raw rows of every raw piece are read by one plain index range scan per piece (chunk
-- exclusion at plan time, ~0.1 ms) and summarised once by vigil_raw_rows_stats, whose plans
-- PL/pgSQL caches for the session: planning vigil_raw_stats' body per piece cost ~1 ms each.
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

-- The reader's side of a window planned in Python (aggregator/window_plan.py, the same rule
-- as vigil_window_parts; aggregator/windows.py reads it), in one row: first what the plan
-- depends on besides the window (the rollup watermarks, the raw horizon, the asked
-- monitors' dirty hours in the window, their region quorums), then the rolled pieces of the
-- window as planned, summed per (monitor, region) here, as parallel arrays: ranges of whole
-- clean four-week blocks, weeks and days (four_week_from[i]..four_week_to[i] and so on) from
-- rollup_28d, rollup_7d and rollup_1d, ranges of hours from rollup_1h. A range's monitor
-- (four_week_m[i] and so on) is 0 for the monitors planned together (planned_ids: those
-- without dirty hours in the window), or the one monitor whose own plan it belongs to: a
-- dirty hour keeps only its monitor's day and blocks out, and that monitor's hour ranges
-- leave the dirty hours out (they are read from raw rows).
-- * Each range is one index range scan: a list of hours would cost an index descent per
--   hour, and without OFFSET 0 the generic plan (which cannot know how few rows a range
--   holds) reads every hour of the monitors and filters them.
-- * The histograms travel as one bytea: each piece's elements as array_send writes them,
--   (size, value) pairs without the 20-byte header (ndim, flags, element type, length,
--   lower bound), back to back, with each key's byte count in hist_bytes.
-- * latency_min_us/latency_max_us of a key without up results: -1.
-- PL/pgSQL with a forced generic plan, planned once per session: as a prepared statement
-- PostgreSQL kept choosing a custom plan (the arrays' lengths make it look cheaper), and
-- planning it cost twice its execution.
CREATE OR REPLACE FUNCTION vigil_window_rolled(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz,
                                               planned_ids integer[],
                                               four_week_m integer[], four_week_from timestamptz[], four_week_to timestamptz[],
                                               week_m integer[], week_from timestamptz[], week_to timestamptz[],
                                               day_m integer[], day_from timestamptz[], day_to timestamptz[],
                                               hour_m integer[], hour_from timestamptz[], hour_to timestamptz[],
                                               per_region boolean)
RETURNS TABLE (hourly_until timestamptz, daily_until timestamptz, weekly_until timestamptz,
               four_weekly_until timestamptz, raw_from timestamptz,
               dirty_monitors integer[], dirty_hours timestamptz[], quorum_monitors integer[], quorums smallint[],
               piece_monitors integer[], piece_regions smallint[], slots bigint[], up_slots bigint[],
               down_slots bigint[], missed_slots bigint[], checks bigint[], latency_min_us integer[],
               latency_max_us integer[], latency_sum_us bigint[], hist_bytes integer[], hist bytea)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    region_lo smallint := CASE WHEN per_region THEN 1 ELSE 0 END;
    region_hi smallint := CASE WHEN per_region THEN 32767 ELSE 0 END;
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT r.monitor_id, r.region_id, sum(r.slots)::bigint AS slots, sum(r.up_slots)::bigint AS up_slots,
               sum(r.down_slots)::bigint AS down_slots, sum(r.missed_slots)::bigint AS missed_slots,
               sum(r.checks)::bigint AS checks, coalesce(min(r.latency_min_us), -1) AS latency_min_us,
               coalesce(max(r.latency_max_us), -1) AS latency_max_us, sum(r.latency_sum_us)::bigint AS latency_sum_us,
               string_agg(substring(array_send(r.hist::integer[]) FROM 21), ''::bytea) AS hist
        FROM (SELECT r.monitor_id, r.region_id, r.slots, r.up_slots, r.down_slots, r.missed_slots, r.checks,
                     r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist
              FROM unnest(four_week_m, four_week_from, four_week_to) AS s(m, a, b)
              CROSS JOIN LATERAL (SELECT r.* FROM rollup_28d r
                                  WHERE r.monitor_id = ANY (CASE WHEN s.m = 0 THEN planned_ids ELSE ARRAY[s.m] END)
                                    AND r.region_id BETWEEN region_lo AND region_hi
                                    AND r.bucket >= s.a AND r.bucket < s.b OFFSET 0) AS r
              UNION ALL
              SELECT r.monitor_id, r.region_id, r.slots, r.up_slots, r.down_slots, r.missed_slots, r.checks,
                     r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist
              FROM unnest(week_m, week_from, week_to) AS s(m, a, b)
              CROSS JOIN LATERAL (SELECT r.* FROM rollup_7d r
                                  WHERE r.monitor_id = ANY (CASE WHEN s.m = 0 THEN planned_ids ELSE ARRAY[s.m] END)
                                    AND r.region_id BETWEEN region_lo AND region_hi
                                    AND r.bucket >= s.a AND r.bucket < s.b OFFSET 0) AS r
              UNION ALL
              SELECT r.monitor_id, r.region_id, r.slots, r.up_slots, r.down_slots, r.missed_slots, r.checks,
                     r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist
              FROM unnest(day_m, day_from, day_to) AS s(m, a, b)
              CROSS JOIN LATERAL (SELECT r.* FROM rollup_1d r
                                  WHERE r.monitor_id = ANY (CASE WHEN s.m = 0 THEN planned_ids ELSE ARRAY[s.m] END)
                                    AND r.region_id BETWEEN region_lo AND region_hi
                                    AND r.bucket >= s.a AND r.bucket < s.b OFFSET 0) AS r
              UNION ALL
              SELECT r.monitor_id, r.region_id, r.slots, r.up_slots, r.down_slots, r.missed_slots, r.checks,
                     r.latency_min_us, r.latency_max_us, r.latency_sum_us, r.hist
              FROM unnest(hour_m, hour_from, hour_to) AS s(m, a, b)
              CROSS JOIN LATERAL (SELECT r.* FROM rollup_1h r
                                  WHERE r.monitor_id = ANY (CASE WHEN s.m = 0 THEN planned_ids ELSE ARRAY[s.m] END)
                                    AND r.region_id BETWEEN region_lo AND region_hi
                                    AND r.bucket >= s.a AND r.bucket < s.b OFFSET 0) AS r
) AS r
        GROUP BY r.monitor_id, r.region_id)
    SELECT (SELECT s.rolled_until FROM rollup_state s WHERE s.width = interval '1 hour'),
           (SELECT s.rolled_until FROM rollup_state s WHERE s.width = interval '1 day'),
           (SELECT s.rolled_until FROM rollup_state s WHERE s.width = interval '7 days'),
           (SELECT s.rolled_until FROM rollup_state s WHERE s.width = interval '28 days'),
           (SELECT nullif(h.kept_from, '-infinity') FROM retention_horizons h WHERE h.source = 'raw'),
           d.monitor_ids, d.buckets, q.ids, q.quorums,
           x.monitor_ids, x.region_ids, x.slots, x.up_slots, x.down_slots, x.missed_slots, x.checks,
           x.latency_min_us, x.latency_max_us, x.latency_sum_us, x.hist_bytes, x.hist
    FROM (SELECT coalesce(array_agg(d.monitor_id ORDER BY d.monitor_id, d.bucket), '{}') AS monitor_ids,
                 coalesce(array_agg(d.bucket ORDER BY d.monitor_id, d.bucket), '{}') AS buckets
          FROM rollup_dirty d
          WHERE d.monitor_id = ANY (monitor_ids) AND d.bucket >= from_ts AND d.bucket < to_ts) AS d,
         (SELECT coalesce(array_agg(m.id ORDER BY m.id), '{}') AS ids,
                 coalesce(array_agg(m.region_quorum ORDER BY m.id), '{}') AS quorums
          FROM monitors m WHERE m.id = ANY (monitor_ids)) AS q,
         (SELECT array_agg(p.monitor_id) AS monitor_ids, array_agg(p.region_id) AS region_ids,
                 array_agg(p.slots) AS slots, array_agg(p.up_slots) AS up_slots,
                 array_agg(p.down_slots) AS down_slots, array_agg(p.missed_slots) AS missed_slots,
                 array_agg(p.checks) AS checks, array_agg(p.latency_min_us) AS latency_min_us,
                 array_agg(p.latency_max_us) AS latency_max_us, array_agg(p.latency_sum_us) AS latency_sum_us,
                 array_agg(coalesce(length(p.hist), 0)) AS hist_bytes, string_agg(p.hist, ''::bytea) AS hist
          FROM p) AS x;
END
$$;

-- Window statistics per monitor under the region quorum (the readers' main entry point).
CREATE OR REPLACE FUNCTION vigil_window_stats(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (monitor_id integer, slots bigint, up_slots bigint, down_slots bigint,
               missed_slots bigint, checks bigint, latency_min_us integer, latency_max_us integer,
               latency_sum_us bigint, hist vigil_hist)
LANGUAGE sql STABLE AS $$
    SELECT p.monitor_id, sum(p.slots)::bigint, sum(p.up_slots)::bigint, sum(p.down_slots)::bigint,
           sum(p.missed_slots)::bigint, sum(p.checks)::bigint, min(p.latency_min_us),
           max(p.latency_max_us), sum(p.latency_sum_us)::bigint, vigil_hist_merge(p.hist)
    FROM vigil_window_parts(monitor_ids, from_ts, to_ts, false) AS p
    GROUP BY p.monitor_id
$$;

-- The same per (monitor, region), no quorum.
CREATE OR REPLACE FUNCTION vigil_window_region_stats(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (monitor_id integer, region_id smallint, slots bigint, up_slots bigint,
               down_slots bigint, missed_slots bigint, checks bigint, latency_min_us integer,
               latency_max_us integer, latency_sum_us bigint, hist vigil_hist)
LANGUAGE sql STABLE AS $$
    SELECT p.monitor_id, p.region_id, sum(p.slots)::bigint, sum(p.up_slots)::bigint,
           sum(p.down_slots)::bigint, sum(p.missed_slots)::bigint, sum(p.checks)::bigint,
           min(p.latency_min_us), max(p.latency_max_us), sum(p.latency_sum_us)::bigint,
           vigil_hist_merge(p.hist)
    FROM vigil_window_parts(monitor_ids, from_ts, to_ts, true) AS p
    GROUP BY p.monitor_id, p.region_id
$$;
