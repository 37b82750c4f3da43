-- Slot-level reads for the stats API and Grafana: one monitor's slots in [from, to), each
-- classified by the region quorum rule (docs/querying.md):
--   down   when at least k regions recorded it down (up = false, error_kind <> missed),
--   missed when fewer than k regions have a usable (not missed) result, so it cannot be decided,
--   up     otherwise,
-- where k = the monitor's region_quorum, or 1 when one region is asked for (p_region).
-- The per-slot counterpart of vigil_window_stats; the raw-resolution series, downtime periods,
-- current status and Grafana's status timeline all read slots through this one function.
-- error_kind 13 = vigil.constants.ErrorKind.missed.
CREATE FUNCTION vigil_monitor_slots(p_monitor integer, p_from timestamptz, p_to timestamptz,
                                    p_region smallint DEFAULT NULL)
RETURNS TABLE (slot timestamptz, status text, regions_up integer, regions_down integer,
               regions_missed integer, latency_us integer)
LANGUAGE sql STABLE AS $$
    SELECT r.time,
           CASE WHEN count(*) FILTER (WHERE NOT r.up AND r.error_kind <> 13) >= q.k THEN 'down'
                WHEN count(*) FILTER (WHERE r.error_kind <> 13) < q.k THEN 'missed'
                ELSE 'up' END,
           (count(*) FILTER (WHERE r.up))::integer,
           (count(*) FILTER (WHERE NOT r.up AND r.error_kind <> 13))::integer,
           (count(*) FILTER (WHERE r.error_kind = 13))::integer,
           (avg(r.latency_us) FILTER (WHERE r.up))::integer
    FROM check_results r
    CROSS JOIN (SELECT CASE WHEN p_region IS NULL THEN m.region_quorum ELSE 1 END AS k
                FROM monitors m WHERE m.id = p_monitor) q
    WHERE r.monitor_id = p_monitor AND r.time >= p_from AND r.time < p_to
      AND (p_region IS NULL OR r.region_id = p_region)
    GROUP BY r.time, q.k
$$;

-- Grafana reads through the vigil_grafana role (grafana/initdb/10-grafana-reader.sh), which
-- default privileges let read every table; take back those holding key hashes, channel
-- secrets and notification payloads.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vigil_grafana') THEN
        REVOKE SELECT ON api_keys, channels, notifications, notification_attempts FROM vigil_grafana;
    END IF;
END
$$;
