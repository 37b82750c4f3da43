-- Notification delivery (notify/). A claimed row is 'delivering' with next_attempt_at as the
-- end of its lease; a worker that dies mid-send leaves it there, and it is claimed again
-- once the lease ends. This index finds those few rows without scanning the outbox.
CREATE INDEX notifications_lease_idx ON notifications (next_attempt_at) WHERE status = 'delivering';
-- Listing an account's notifications newest first.
CREATE INDEX notifications_account_idx ON notifications (account_id, id DESC);

-- Each slot of the given monitors in [from_ts, to_ts) judged with the region quorum: 'down'
-- when at least region_quorum regions saw it down (error_kind 13 = missed does not count),
-- 'missed' when no region has a usable result, else 'up'. The weekly report's raw path
-- (hourly chart, down episodes) reads it; window totals come from vigil_window_stats.
CREATE FUNCTION notify_slot_states(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (monitor_id integer, slot timestamptz, state text, interval_s integer)
LANGUAGE sql STABLE AS $$
    SELECT s.monitor_id, s.time,
           CASE WHEN s.usable = 0 THEN 'missed'
                WHEN s.down >= m.region_quorum THEN 'down'
                ELSE 'up' END,
           m.interval_s
    FROM (SELECT r.monitor_id, r.time,
                 count(*) FILTER (WHERE NOT r.up AND r.error_kind <> 13) AS down,
                 count(*) FILTER (WHERE r.error_kind <> 13) AS usable
          FROM check_results r
          WHERE r.monitor_id = ANY(monitor_ids) AND r.time >= from_ts AND r.time < to_ts
          GROUP BY r.monitor_id, r.time) s
    JOIN monitors m ON m.id = s.monitor_id
$$;
