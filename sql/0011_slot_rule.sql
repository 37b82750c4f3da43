-- The per-slot region quorum rule, defined once, and the slots SLA figures leave out because
-- they fall inside a maintenance window.
--
-- The rule (docs/querying.md): a slot with quorum k is
--   down   when at least k regions recorded it down (up = false, error_kind <> missed),
--   missed when fewer than k regions have a usable (not missed) result, so it cannot be decided,
--   up     otherwise.
-- vigil_slot_status is that rule; every slot-level reader goes through it: vigil_slots (and
-- its wrappers vigil_monitor_slots, notify_slot_states), the slot_region_agreement view and
-- the evaluator's down rule (sql/queries/evaluator.sql). vigil_raw_stats (0003) applies the
-- same rule to the rollups; tests/test_slot_rule.py feeds the same slots through all of them.
-- error_kind 13 = vigil.constants.ErrorKind.missed.

-- A simple IMMUTABLE SQL function: the planner inlines it into the calling query, so using it
-- in set-based statements costs nothing over writing the CASE out.
CREATE FUNCTION vigil_slot_status(regions_down bigint, regions_usable bigint, quorum integer)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN regions_down >= quorum THEN 'down'
                WHEN regions_usable < quorum THEN 'missed'
                ELSE 'up' END
$$;

-- Each slot of the given monitors in [from_ts, to_ts), judged by vigil_slot_status under the
-- monitor's region_quorum, or under quorum 1 for one region alone (p_region). Regions that
-- sent nothing for a slot do not count (the missed-slot sweeper writes missed markers for
-- them once the slot's check window has closed). latency_us: mean of the up results.
CREATE FUNCTION vigil_slots(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz,
                            p_region smallint DEFAULT NULL)
RETURNS TABLE (monitor_id integer, slot timestamptz, status text, regions_up integer,
               regions_down integer, regions_missed integer, latency_us integer)
LANGUAGE sql STABLE AS $$
    SELECT s.monitor_id, s.time,
           vigil_slot_status(s.n_down, s.n_up + s.n_down,
                             CASE WHEN p_region IS NULL THEN m.region_quorum ELSE 1 END),
           s.n_up::integer, s.n_down::integer, s.n_missed::integer, s.latency_us::integer
    FROM (SELECT r.monitor_id, r.time,
                 count(*) FILTER (WHERE r.up) AS n_up,
                 count(*) FILTER (WHERE NOT r.up AND r.error_kind <> 13) AS n_down,
                 count(*) FILTER (WHERE r.error_kind = 13) AS n_missed,
                 avg(r.latency_us) FILTER (WHERE r.up) AS latency_us
          FROM check_results r
          WHERE r.monitor_id = ANY (monitor_ids) AND r.time >= from_ts AND r.time < to_ts
            AND (p_region IS NULL OR r.region_id = p_region)
          GROUP BY r.monitor_id, r.time) s
    -- the monitors by the same array, so they are looked up by key, not scanned
    JOIN (SELECT m.id, m.region_quorum FROM monitors m WHERE m.id = ANY (monitor_ids)) m
      ON m.id = s.monitor_id
$$;

-- One monitor's slots (stats API, Grafana): vigil_slots for one id.
CREATE OR REPLACE FUNCTION vigil_monitor_slots(p_monitor integer, p_from timestamptz, p_to timestamptz,
                                               p_region smallint DEFAULT NULL)
RETURNS TABLE (slot timestamptz, status text, regions_up integer, regions_down integer,
               regions_missed integer, latency_us integer)
LANGUAGE sql STABLE AS $$
    SELECT s.slot, s.status, s.regions_up, s.regions_down, s.regions_missed, s.latency_us
    FROM vigil_slots(ARRAY[p_monitor], p_from, p_to, p_region) s
$$;

-- The weekly report's slot states (runs of down slots where the alert tables are absent).
CREATE OR REPLACE FUNCTION notify_slot_states(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (monitor_id integer, slot timestamptz, state text)
LANGUAGE sql STABLE AS $$
    SELECT s.monitor_id, s.slot, s.status FROM vigil_slots(monitor_ids, from_ts, to_ts) s
$$;

-- The pipeline's per-slot view (0005), now judged by vigil_slot_status; status is new.
CREATE OR REPLACE VIEW slot_region_agreement AS
SELECT s.monitor_id, s.time, cardinality(m.regions) AS regions_expected,
       (s.n_up + s.n_down + s.n_missed)::int AS regions_reporting,
       s.n_up::int AS regions_up, s.n_down::int AS regions_down, s.n_missed::int AS regions_missed,
       m.region_quorum,
       vigil_slot_status(s.n_down, s.n_up + s.n_down, m.region_quorum) = 'down' AS down,
       vigil_slot_status(s.n_down, s.n_up + s.n_down, m.region_quorum) AS status
FROM (SELECT r.monitor_id, r.time,
             count(*) FILTER (WHERE r.up) AS n_up,
             count(*) FILTER (WHERE NOT r.up AND r.error_kind <> 13) AS n_down,
             count(*) FILTER (WHERE r.error_kind = 13) AS n_missed
      FROM check_results r GROUP BY r.monitor_id, r.time) s
JOIN monitors m ON m.id = s.monitor_id;

-- Maintenance in SLA figures: per monitor, the slots of [from_ts, to_ts) inside any of its
-- maintenance periods (vigil_maintenance_periods, 0006; overlapping periods merged so no
-- slot counts twice), by status. Computed from raw rows at query time, since a window may be
-- created after the fact and rollups know nothing of maintenance; raw rows past raw
-- retention are gone, so those slots cannot be re-judged and are not excluded. Readers
-- subtract these counts from vigil_window_stats (or the per-region stats with p_region).
-- Only monitors with at least one slot in maintenance have a row.
CREATE FUNCTION vigil_window_excluded(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz,
                                      p_region smallint DEFAULT NULL)
RETURNS TABLE (monitor_id integer, slots bigint, up_slots bigint, down_slots bigint, missed_slots bigint)
LANGUAGE sql STABLE AS $$
    WITH periods AS (
        SELECT p.monitor_id, unnest(range_agg(p.period * tstzrange(from_ts, to_ts))) AS period
        FROM vigil_maintenance_periods(monitor_ids, from_ts, to_ts) p
        GROUP BY p.monitor_id)
    SELECT p.monitor_id, count(*), count(*) FILTER (WHERE s.status = 'up'),
           count(*) FILTER (WHERE s.status = 'down'), count(*) FILTER (WHERE s.status = 'missed')
    FROM periods p
    CROSS JOIN LATERAL vigil_slots(ARRAY[p.monitor_id], lower(p.period),
                                   upper(p.period) + interval '1 microsecond', p_region) s
    WHERE s.slot <@ p.period
    GROUP BY p.monitor_id
$$;
