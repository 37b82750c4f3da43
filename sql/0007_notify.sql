-- Notification delivery (notify/). A claimed row is 'delivering' with next_attempt_at as the
-- end of its lease; a worker that dies mid-send leaves it there, and it is claimed again
-- once the lease ends. This index finds those few rows without scanning the outbox.
CREATE INDEX notifications_lease_idx ON notifications (next_attempt_at) WHERE status = 'delivering';
-- Listing an account's notifications newest first.
CREATE INDEX notifications_account_idx ON notifications (account_id, id DESC);

-- Each slot of the given monitors in [from_ts, to_ts) judged under the region quorum k, by
-- the slot rule of the window functions (vigil_raw_stats in 0003_rollups.sql, kept identical):
-- 'down' when at least k regions saw it down (error_kind 13 = missed is not down),
-- 'missed' when fewer than k regions have a usable result, else 'up'. The weekly report
-- counts runs of down slots with it where the alert tables (incidents) are absent.
CREATE FUNCTION notify_slot_states(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (monitor_id integer, slot timestamptz, state text)
LANGUAGE sql STABLE AS $$
    SELECT s.monitor_id, s.time,
           CASE WHEN s.n_down >= m.region_quorum THEN 'down'
                WHEN s.n_up + s.n_down < m.region_quorum THEN 'missed'
                ELSE 'up' END
    FROM (SELECT r.monitor_id, r.time,
                 count(*) FILTER (WHERE r.up) AS n_up,
                 count(*) FILTER (WHERE NOT r.up AND r.error_kind <> 13) AS n_down
          FROM check_results r
          WHERE r.monitor_id = ANY(monitor_ids) AND r.time >= from_ts AND r.time < to_ts
          GROUP BY r.monitor_id, r.time) s
    JOIN monitors m ON m.id = s.monitor_id
$$;
