-- One slot rule everywhere: the two readers that still wrote the quorum rule out inline now
-- judge slots by vigil_slot_status (sql/0011_slot_rule.sql), like every other slot reader.
-- vigil_raw_stats (0003): the aggregator's per-hour materialisation and the report's raw days;
-- vigil_raw_rows_stats (0013): the raw pieces of the window functions.
-- Same signatures, same figures; only the per-slot judgement changes hands. vigil_slot_status
-- is an IMMUTABLE single-SELECT SQL function, so the planner inlines it (EXPLAIN VERBOSE shows
-- its CASE, no function call). Each slot's status is computed in a subquery kept apart by
-- OFFSET 0: without it the planner pulls the subquery up and copies the CASE into each of the
-- three count filters, judging every slot three times. Measured on 2M synthetic slots, the
-- judgement costs 204 ns a slot against 187 ns for the old inline comparisons (213 without
-- OFFSET 0): ~0.2 % of either function, below the noise of python -m benchmarks.queries --quick.
-- A slot of a monitor without a row in monitors keeps quorum 1, as before.

CREATE OR REPLACE FUNCTION vigil_raw_stats(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
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
        SELECT j.bucket, j.monitor_id, count(*) AS slots,
               count(*) FILTER (WHERE j.status = 'up') AS up_slots,
               count(*) FILTER (WHERE j.status = 'down') AS down_slots,
               count(*) FILTER (WHERE j.status = 'missed') AS missed_slots
        FROM (SELECT time_bucket(interval '1 hour', s.time) AS bucket, s.monitor_id,
                     vigil_slot_status(s.n_down, s.n_up + s.n_down, coalesce(k.k, 1)) AS status
              FROM slot s
              LEFT JOIN (SELECT m.id, m.region_quorum AS k FROM monitors m) AS k ON k.id = s.monitor_id
              OFFSET 0) AS j  -- judged once per slot, not once per count (see the header)
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
                  OFFSET 0) AS j  -- judged once per slot, not once per count (see the header)
            GROUP BY 1, 2)
        SELECT q.bucket, q.monitor_id, 0::smallint, q.slots, q.up_slots, q.down_slots, q.missed_slots,
               c.checks, c.latency_min_us, c.latency_max_us, c.latency_sum_us, coalesce(h.hist, '{}')::vigil_hist
        FROM q JOIN c USING (bucket, monitor_id) LEFT JOIN h USING (bucket, monitor_id);
    END IF;
END
$$;
