-- The latency histogram (type vigil_hist, 0003_rollups.sql). The layout is defined in
-- aggregator/histogram.py; this mirrors it and tests/test_histogram.py checks both give
-- identical bounds, entries and quantiles.

-- Bound k = ceil(GAMMA^k), duplicates dropped, up to the first bound above int4's maximum.
-- Computed here once and frozen into vigil_hist_bounds() as a literal, so the planner folds
-- it into a constant.
CREATE OR REPLACE FUNCTION vigil_hist_alpha() RETURNS float8
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
    EXECUTE format('CREATE OR REPLACE FUNCTION vigil_hist_bounds() RETURNS bigint[] '
                   'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
                   format('SELECT %L::bigint[]', bounds));
END
$$;

-- Bucket index of a latency (number of bounds <= v), as numpy searchsorted(side='right').
CREATE OR REPLACE FUNCTION vigil_hist_index(latency_us integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT width_bucket(latency_us::bigint, vigil_hist_bounds()) $$;

-- Value of bucket k: midpoint of the integers in it (0 for bucket 0).
CREATE OR REPLACE FUNCTION vigil_hist_value(k integer) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN k = 0 THEN 0::float8
                ELSE (b[k] + coalesce(b[k + 1] - 1, b[k]))::float8 / 2.0 END
    FROM (SELECT vigil_hist_bounds() AS b) s
$$;

-- Any packed entries (unsorted, repeated indexes) -> the canonical form: sorted by index,
-- one entry per index, counts above 2^20 - 1 split into full entries then the remainder.
CREATE OR REPLACE FUNCTION vigil_hist_compact(h integer[]) RETURNS vigil_hist
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg((s.k + 2048 * least(s.c - p * 1048575, 1048575))::integer
                              ORDER BY s.k, p), '{}')::vigil_hist
    FROM (SELECT e & 2047 AS k, sum(e >> 11) AS c FROM unnest(h) AS e GROUP BY 1) AS s,
         generate_series(0, ((s.c - 1) / 1048575)::integer) AS p
$$;

CREATE OR REPLACE FUNCTION vigil_hist_count(h vigil_hist) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(sum(e >> 11), 0)::bigint FROM unnest(h) AS e $$;

-- Merge transition: concatenate, compacting whenever the state grows past 8192 entries so
-- merging many histograms stays linear.
CREATE OR REPLACE FUNCTION vigil_hist_merge_step(state integer[], h integer[]) RETURNS integer[]
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

CREATE OR REPLACE AGGREGATE vigil_hist_merge(vigil_hist) (
    sfunc = vigil_hist_merge_step, stype = integer[], initcond = '{}',
    combinefunc = vigil_hist_merge_step, finalfunc = vigil_hist_compact, parallel = safe
);

-- Latency at each quantile q (0..1), as percentile_cont: rank q * (n - 1) interpolated
-- between the values of the buckets holding its floor and ceiling. NULL when empty.
-- (A loop over the sorted entries: several times faster than the set-based form for the
-- few dozen entries of a rollup row.)
CREATE OR REPLACE FUNCTION vigil_hist_quantiles(h vigil_hist, qs float8[]) RETURNS float8[]
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

CREATE OR REPLACE FUNCTION vigil_hist_quantile(h vigil_hist, q float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (vigil_hist_quantiles(h, ARRAY[q]))[1] $$;

