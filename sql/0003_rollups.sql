-- Analytics: the latency histogram type, hourly/daily rollups and the window functions
-- readers call (docs/analytics.md).

-- ---------------------------------------------------------------------------------------
-- Histogram. The layout is defined in aggregator/histogram.py; this mirrors it and
-- tests/test_histogram.py checks both give identical bounds, entries and quantiles.
-- A vigil_hist is a sorted int4[] of packed entries bucket_index + 2048 * count.
CREATE DOMAIN vigil_hist AS integer[];

-- Bound k = ceil(GAMMA^k), duplicates dropped, up to the first bound above int4's maximum.
-- Computed here once and frozen into vigil_hist_bounds() as a literal, so the planner folds
-- it into a constant.
CREATE FUNCTION vigil_hist_alpha() RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 0.005::float8 $$;

DO $$
DECLARE
    bounds bigint[];
BEGIN
    WITH b AS (
        SELECT DISTINCT ceil(power((1 + vigil_hist_alpha()) / (1 - vigil_hist_alpha()), k::float8))::bigint AS v
        FROM generate_series(0, 3000) AS k)
    SELECT array_agg(v ORDER BY v) INTO bounds
    FROM b WHERE v <= (SELECT min(v) FROM b WHERE v > 2147483647);
    EXECUTE format('CREATE FUNCTION vigil_hist_bounds() RETURNS bigint[] '
                   'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
                   format('SELECT %L::bigint[]', bounds));
END
$$;

-- Bucket index of a latency (number of bounds <= v), as numpy searchsorted(side='right').
CREATE FUNCTION vigil_hist_index(latency_us integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT width_bucket(latency_us::bigint, vigil_hist_bounds()) $$;

-- Value of bucket k: midpoint of the integers in it (0 for bucket 0).
CREATE FUNCTION vigil_hist_value(k integer) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN k = 0 THEN 0::float8
                ELSE (b[k] + coalesce(b[k + 1] - 1, b[k]))::float8 / 2.0 END
    FROM (SELECT vigil_hist_bounds() AS b) s
$$;

-- Any packed entries (unsorted, repeated indexes) -> the canonical form: sorted by index,
-- one entry per index, counts above 2^20 - 1 split into full entries then the remainder.
CREATE FUNCTION vigil_hist_compact(h integer[]) RETURNS vigil_hist
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg((s.k + 2048 * least(s.c - p * 1048575, 1048575))::integer
                              ORDER BY s.k, p), '{}')::vigil_hist
    FROM (SELECT e & 2047 AS k, sum(e >> 11) AS c FROM unnest(h) AS e GROUP BY 1) AS s,
         generate_series(0, ((s.c - 1) / 1048575)::integer) AS p
$$;

CREATE FUNCTION vigil_hist_count(h vigil_hist) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(sum(e >> 11), 0)::bigint FROM unnest(h) AS e $$;

-- Merge transition: concatenate, compacting whenever the state grows past 8192 entries so
-- merging many histograms stays linear.
CREATE FUNCTION vigil_hist_merge_step(state integer[], h integer[]) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF h IS NULL THEN
        RETURN state;
    END IF;
    state := state || h;
    IF cardinality(state) > 8192 THEN
        state := vigil_hist_compact(state);
    END IF;
    RETURN state;
END
$$;

CREATE AGGREGATE vigil_hist_merge(vigil_hist) (
    sfunc = vigil_hist_merge_step, stype = integer[], initcond = '{}',
    combinefunc = vigil_hist_merge_step, finalfunc = vigil_hist_compact, parallel = safe
);

-- Latency at each quantile q (0..1), as percentile_cont: rank q * (n - 1) interpolated
-- between the values of the buckets holding its floor and ceiling. NULL when empty.
-- (A loop over the sorted entries: several times faster than the set-based form for the
-- few dozen entries of a rollup row.)
CREATE FUNCTION vigil_hist_quantiles(h vigil_hist, qs float8[]) RETURNS float8[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    entries integer[] := coalesce(h, '{}');
    n      bigint := 0;
    cum    bigint;
    e      integer;
    q      float8;
    rank   float8;
    lo     bigint;
    hi     bigint;
    v_lo   float8;
    v_hi   float8;
    result float8[] := '{}';
BEGIN
    FOREACH e IN ARRAY entries LOOP
        n := n + (e >> 11);
    END LOOP;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    FOREACH q IN ARRAY qs LOOP
        IF q IS NULL OR q < 0 OR q > 1 THEN
            RAISE EXCEPTION 'quantile % is outside [0, 1]', q USING ERRCODE = 'invalid_parameter_value';
        END IF;
        rank := q * (n - 1)::float8;
        lo := floor(rank);
        hi := ceil(rank);
        cum := 0;
        v_lo := NULL;
        FOREACH e IN ARRAY entries LOOP
            cum := cum + (e >> 11);
            IF v_lo IS NULL AND cum > lo THEN
                v_lo := vigil_hist_value(e & 2047);
            END IF;
            IF cum > hi THEN
                v_hi := vigil_hist_value(e & 2047);
                EXIT;
            END IF;
        END LOOP;
        result := result || (v_lo + (rank - lo::float8) * (v_hi - v_lo));
    END LOOP;
    RETURN result;
END
$$;

CREATE FUNCTION vigil_hist_quantile(h vigil_hist, q float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (vigil_hist_quantiles(h, ARRAY[q]))[1] $$;

-- ---------------------------------------------------------------------------------------
-- Rollups, per (bucket, monitor, region). region_id 0 is the monitor-level view: slots
-- decided under the monitor's region_quorum, latency of every up result of any region.
-- Counts: slots = result rows (region) or distinct slot times (region 0); checks = results
-- actually performed (not missed); latency over up results only.
CREATE TABLE rollup_1h (
    bucket          timestamptz NOT NULL,
    monitor_id      integer     NOT NULL,
    region_id       smallint    NOT NULL,
    slots           integer     NOT NULL,
    up_slots        integer     NOT NULL,
    down_slots      integer     NOT NULL,
    missed_slots    integer     NOT NULL,
    checks          integer     NOT NULL,
    latency_min_us  integer,
    latency_max_us  integer,
    latency_sum_us  bigint      NOT NULL,
    p50_us          real,
    p90_us          real,
    p95_us          real,
    p99_us          real,
    hist            vigil_hist  NOT NULL,
    PRIMARY KEY (monitor_id, region_id, bucket)
);
-- Hourly rollups are dropped by age (a year by default) with drop_chunks.
SELECT create_hypertable('rollup_1h', 'bucket', chunk_time_interval => interval '30 days',
                         create_default_indexes => false);

CREATE TABLE rollup_1d (LIKE rollup_1h INCLUDING ALL);

-- How far each rollup is complete: every bucket starting before rolled_until is rolled,
-- except hours listed in rollup_dirty (and the days holding them).
CREATE TABLE rollup_state (
    width         interval PRIMARY KEY,
    rolled_until  timestamptz NOT NULL
);

-- Hours that received rows after they may have been rolled. The trigger fires only for
-- rows whose slot is older than LATE_AFTER (2 minutes), a condition evaluated without
-- calling any function, so ordinary ingest pays almost nothing. The aggregator rolls an
-- hour only once it ended ROLL_DELAY (5 minutes, > LATE_AFTER + a writer transaction)
-- ago, so a row either is visible to the roll or marks its hour dirty.
CREATE TABLE rollup_dirty (
    bucket     timestamptz PRIMARY KEY,
    marked_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION vigil_mark_late_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollup_dirty (bucket) VALUES (time_bucket(interval '1 hour', NEW.time))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER check_results_late_rows AFTER INSERT ON check_results
FOR EACH ROW WHEN (NEW.time < statement_timestamp() - interval '2 minutes')
EXECUTE FUNCTION vigil_mark_late_row();

-- ---------------------------------------------------------------------------------------
-- Statistics straight from raw rows in [from_ts, to_ts), one row per (hour, monitor,
-- region) plus region_id 0 rows under the quorum rule. monitor_ids NULL = every monitor.
-- The aggregator materialises this per hour; the window functions use it for the parts
-- of a window not rolled up yet.
CREATE FUNCTION vigil_raw_stats(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (bucket timestamptz, monitor_id integer, region_id smallint, slots bigint,
               up_slots bigint, down_slots bigint, missed_slots bigint, checks bigint,
               latency_min_us integer, latency_max_us integer, latency_sum_us bigint,
               hist vigil_hist)
LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT c.time, c.monitor_id, c.region_id, c.up, c.latency_us,
               NOT c.up AND c.error_kind <> 13 AS down,
               NOT c.up AND c.error_kind = 13 AS missed
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
        SELECT bk.bucket, bk.monitor_id, bk.region_id, array_agg((bk.k + 2048 * bk.c)::integer ORDER BY bk.k) AS hist
        FROM bk GROUP BY 1, 2, 3),
    hist_monitor AS (
        SELECT m.bucket, m.monitor_id, array_agg((m.k + 2048 * m.c)::integer ORDER BY m.k) AS hist
        FROM (SELECT bk.bucket, bk.monitor_id, bk.k, sum(bk.c) AS c FROM bk GROUP BY 1, 2, 3) AS m
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
        SELECT time_bucket(interval '1 hour', s.time) AS bucket, s.monitor_id, count(*) AS slots,
               count(*) FILTER (WHERE s.n_up + s.n_down >= coalesce(k.k, 1) AND s.n_down < coalesce(k.k, 1)) AS up_slots,
               count(*) FILTER (WHERE s.n_down >= coalesce(k.k, 1)) AS down_slots,
               count(*) FILTER (WHERE s.n_up + s.n_down < coalesce(k.k, 1)) AS missed_slots
        FROM slot s
        LEFT JOIN (SELECT m.id, m.region_quorum AS k FROM monitors m) AS k ON k.id = s.monitor_id
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

-- Window statistics per monitor under the region quorum (the readers' main entry point).
CREATE FUNCTION vigil_window_stats(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
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
CREATE FUNCTION vigil_window_region_stats(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
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
