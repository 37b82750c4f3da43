-- Maintenance windows (table maintenance_windows, 0006_alerts.sql): their occurrences, the
-- monitors inside one, and the slots SLA figures leave out because of them.

-- The occurrences of window w that overlap [from_ts, to_ts), as time ranges. A weekly
-- occurrence is placed in local time, so it keeps its wall-clock hour across DST changes;
-- one that starts the day before from_ts may still reach into it (duration <= 1 day).
CREATE OR REPLACE FUNCTION vigil_maintenance_occurrences(w maintenance_windows, from_ts timestamptz, to_ts timestamptz)
RETURNS SETOF tstzrange LANGUAGE sql STABLE AS $$
    SELECT tstzrange(w.starts_at, w.ends_at)
    WHERE w.weekdays IS NULL AND w.starts_at < to_ts AND w.ends_at > from_ts
    UNION ALL
    SELECT r * tstzrange(w.starts_at, w.ends_at)
    FROM generate_series(((from_ts AT TIME ZONE w.time_zone)::date - 1)::timestamp,
                         (to_ts AT TIME ZONE w.time_zone)::date::timestamp, interval '1 day') AS d(day),
         LATERAL (SELECT ((d.day::date + w.start_time) AT TIME ZONE w.time_zone) AS s) o,
         LATERAL (SELECT tstzrange(o.s, o.s + w.duration_s * interval '1 second') AS r) x
    WHERE w.weekdays IS NOT NULL
      AND extract(isodow FROM d.day)::smallint = ANY (w.weekdays)
      AND r && tstzrange(from_ts, to_ts)
      AND NOT isempty(r * tstzrange(w.starts_at, w.ends_at))
$$;

-- Is monitor_id inside a maintenance window (its own or its account's) at ts? For SLA
-- figures: a slot at ts with this true is excluded.
CREATE OR REPLACE FUNCTION vigil_in_maintenance(monitor_id integer, ts timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1
        FROM monitors m
        JOIN maintenance_windows w ON w.account_id = m.account_id
                                  AND (w.monitor_id IS NULL OR w.monitor_id = m.id)
        CROSS JOIN LATERAL vigil_maintenance_occurrences(w, ts, ts + interval '1 microsecond') r
        WHERE m.id = vigil_in_maintenance.monitor_id AND ts <@ r)
$$;

-- Every monitor inside a maintenance window at some time in [from_ts, to_ts), in one set
-- (the evaluator's view).
CREATE OR REPLACE FUNCTION vigil_monitors_in_maintenance(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (monitor_id integer) LANGUAGE sql STABLE AS $$
    SELECT DISTINCT m.id
    FROM maintenance_windows w
    CROSS JOIN LATERAL vigil_maintenance_occurrences(w, from_ts, to_ts) r
    JOIN monitors m ON m.account_id = w.account_id AND (w.monitor_id IS NULL OR w.monitor_id = m.id)
$$;

-- The maintenance periods of the given monitors that overlap [from_ts, to_ts), one row per
-- (monitor, occurrence): SLA queries exclude slots with time <@ period.
CREATE OR REPLACE FUNCTION vigil_maintenance_periods(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (monitor_id integer, period tstzrange) LANGUAGE sql STABLE AS $$
    SELECT m.id, r
    FROM monitors m
    JOIN maintenance_windows w ON w.account_id = m.account_id AND (w.monitor_id IS NULL OR w.monitor_id = m.id)
    CROSS JOIN LATERAL vigil_maintenance_occurrences(w, from_ts, to_ts) r
    WHERE m.id = ANY (monitor_ids)
$$;

-- Maintenance in SLA figures: per monitor, the slots of [from_ts, to_ts) inside any of its
-- maintenance periods (vigil_maintenance_periods above; overlapping periods merged so no
-- slot counts twice), by status. Computed from raw rows at query time, since a window may be
-- created after the fact and rollups know nothing of maintenance; raw rows past raw
-- retention are gone, so those slots cannot be re-judged and are not excluded. Readers
-- subtract these counts from vigil_window_stats (or the per-region stats with p_region).
-- Only monitors with at least one slot in maintenance have a row.
CREATE OR REPLACE FUNCTION vigil_window_excluded(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz,
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
