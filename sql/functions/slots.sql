-- Slots: the per-slot region quorum rule, defined once, and the slot-level readers.
--
-- The rule (docs/querying.md): a slot with quorum k is
--   down   when at least k regions recorded it down (up = false, error_kind <> missed),
--   missed when fewer than k regions have a usable (not missed) result, so it cannot be decided,
--   up     otherwise.
-- vigil_slot_status is that rule; every slot-level reader goes through it: vigil_slots (and
-- its wrappers vigil_monitor_slots, notify_slot_states), the slot_region_agreement view and
-- the evaluator's down rule (sql/queries/evaluator.sql). vigil_raw_stats and
-- vigil_raw_rows_stats (windows.sql) apply the same rule to the rollups; tests/test_slot_rule.py feeds the same slots through all of them.

-- The error_kind of a missed marker, the row the sweeper writes for a region that sent no
-- result for a slot in time (vigil.constants.ErrorKind.missed). A missed region is neither up
-- nor down. Like the helpers below, an IMMUTABLE single-SELECT SQL function: the planner
-- inlines it and folds the constant.
CREATE OR REPLACE FUNCTION vigil_missed_kind() RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 13::smallint $$;

-- A result that counts as down: failed, and not a missed marker.
CREATE OR REPLACE FUNCTION vigil_result_down(up boolean, error_kind smallint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT NOT up AND error_kind <> vigil_missed_kind() $$;

-- A simple IMMUTABLE SQL function: the planner inlines it into the calling query, so using it
-- in set-based statements costs nothing over writing the CASE out.
CREATE OR REPLACE FUNCTION vigil_slot_status(regions_down bigint, regions_usable bigint, quorum integer)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN regions_down >= quorum THEN 'down'
                WHEN regions_usable < quorum THEN 'missed'
                ELSE 'up' END
$$;

-- Each slot of the given monitors in [from_ts, to_ts), judged by vigil_slot_status under the
-- monitor's region_quorum, or under quorum 1 for one region alone (p_region). Regions that
-- sent nothing for a slot do not count (the missed-slot sweeper writes missed markers for
-- them once the slot's check window has closed). latency_us: mean of the up results.
CREATE OR REPLACE FUNCTION vigil_slots(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz,
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
                 count(*) FILTER (WHERE vigil_result_down(r.up, r.error_kind)) AS n_down,
                 count(*) FILTER (WHERE r.error_kind = vigil_missed_kind()) AS n_missed,
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

-- Per (monitor, slot) of all history: how many regions reported, saw it up, saw it down, or
-- missed it, and its status under the monitor's quorum. Filter on monitor_id and time so
-- Timescale excludes chunks.
CREATE OR REPLACE VIEW slot_region_agreement AS
SELECT s.monitor_id, s.time, cardinality(m.regions) AS regions_expected,
       (s.n_up + s.n_down + s.n_missed)::int AS regions_reporting,
       s.n_up::int AS regions_up, s.n_down::int AS regions_down, s.n_missed::int AS regions_missed,
       m.region_quorum,
       vigil_slot_status(s.n_down, s.n_up + s.n_down, m.region_quorum) = 'down' AS down,
       vigil_slot_status(s.n_down, s.n_up + s.n_down, m.region_quorum) AS status
FROM (SELECT r.monitor_id, r.time,
             count(*) FILTER (WHERE r.up) AS n_up,
             count(*) FILTER (WHERE vigil_result_down(r.up, r.error_kind)) AS n_down,
             count(*) FILTER (WHERE r.error_kind = vigil_missed_kind()) AS n_missed
      FROM check_results r GROUP BY r.monitor_id, r.time) s
JOIN monitors m ON m.id = s.monitor_id;
