-- The latency histogram (type vigil_hist, 0003_rollups.sql). The layout is defined in
-- aggregator/histogram.py; this mirrors it and tests/test_histogram.py checks both give
-- identical bounds, entries and quantiles.

-- A histogram is a sorted int4[] of packed entries: the bucket index in the low
-- vigil_hist_index_bits() bits, the count above them (aggregator/histogram.py: INDEX_BITS,
-- MAX_COUNT, pack, unpack). The layout is these four helpers and nothing else: IMMUTABLE
-- single-SELECT SQL functions, which the planner inlines and folds to constants, so a call
-- costs what the arithmetic written out costs.
CREATE OR REPLACE FUNCTION vigil_hist_index_bits() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 11 $$;

-- The largest count one entry holds: int4 leaves 31 - index bits for it; larger counts are
-- split over several entries.
CREATE OR REPLACE FUNCTION vigil_hist_entry_max_count() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (1 << (31 - vigil_hist_index_bits())) - 1 $$;

CREATE OR REPLACE FUNCTION vigil_hist_entry(bucket_index integer, n bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (bucket_index + n * (1 << vigil_hist_index_bits()))::integer
$$;

CREATE OR REPLACE FUNCTION vigil_hist_entry_bucket(entry integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT entry & ((1 << vigil_hist_index_bits()) - 1) $$;

CREATE OR REPLACE FUNCTION vigil_hist_entry_count(entry integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT entry >> vigil_hist_index_bits() $$;

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
-- one entry per index, counts above vigil_hist_entry_max_count() split into full entries
-- then the remainder.
CREATE OR REPLACE FUNCTION vigil_hist_compact(h integer[]) RETURNS vigil_hist
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(vigil_hist_entry(s.k, least(s.c - p * vigil_hist_entry_max_count(),
                                                          vigil_hist_entry_max_count()))
                              ORDER BY s.k, p), '{}')::vigil_hist
    FROM (SELECT vigil_hist_entry_bucket(e) AS k, sum(vigil_hist_entry_count(e)) AS c
          FROM unnest(h) AS e GROUP BY 1) AS s,
         generate_series(0, ((s.c - 1) / vigil_hist_entry_max_count())::integer) AS p
$$;

CREATE OR REPLACE FUNCTION vigil_hist_count(h vigil_hist) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(vigil_hist_entry_count(e)), 0)::bigint FROM unnest(h) AS e
$$;

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
        n := n + vigil_hist_entry_count(e);
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
            cum := cum + vigil_hist_entry_count(e);
            IF v_lo IS NULL AND cum > lo THEN
                v_lo := vigil_hist_value(vigil_hist_entry_bucket(e));
            END IF;
            IF cum > hi THEN
                v_hi := vigil_hist_value(vigil_hist_entry_bucket(e));
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

