-- Alerting: rules, incidents and maintenance windows (the outbox is in 0002).

-- A rule targets one monitor (monitor_id), every monitor of the account carrying a tag
-- (tag), or every monitor of the account (neither). params holds the kind's condition
-- (api/rules/schemas.py documents each kind); the columns beside it are common to all.
CREATE TABLE alert_rules (
    id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      integer NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name            text    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind            text    NOT NULL CHECK (kind IN ('down', 'latency', 'uptime', 'tls_expiry',
                                                     'heartbeat', 'slo_burn_rate')),
    monitor_id      integer REFERENCES monitors(id) ON DELETE CASCADE,
    tag             text,
    params          jsonb   NOT NULL DEFAULT '{}',
    severity        text    NOT NULL DEFAULT 'critical' CHECK (severity IN ('critical', 'warning', 'info')),
    channel_ids     integer[] NOT NULL DEFAULT '{}',
    renotify_s      integer NOT NULL DEFAULT 0 CHECK (renotify_s = 0 OR renotify_s >= 60),
    recovery_slots  integer NOT NULL DEFAULT 1 CHECK (recovery_slots BETWEEN 1 AND 1000),
    pending_s       integer NOT NULL DEFAULT 0 CHECK (pending_s BETWEEN 0 AND 86400),
    enabled         boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (monitor_id IS NULL OR tag IS NULL)
);
CREATE INDEX alert_rules_account_idx ON alert_rules (account_id, id);
CREATE INDEX alert_rules_kind_idx ON alert_rules (kind) WHERE enabled;

-- Every (rule, monitor) pair an enabled rule watches. Three joins, not one OR-join, so a
-- single-monitor rule costs one primary-key lookup however many monitors the account has.
CREATE VIEW alert_rule_targets AS
    SELECT r.id AS rule_id, r.kind, m.id AS monitor_id, m.account_id
    FROM alert_rules r JOIN monitors m ON m.id = r.monitor_id AND m.account_id = r.account_id
    WHERE r.enabled AND m.enabled
    UNION ALL
    SELECT r.id, r.kind, m.id, m.account_id
    FROM alert_rules r JOIN monitors m ON m.account_id = r.account_id AND r.tag = ANY (m.tags)
    WHERE r.enabled AND m.enabled AND r.monitor_id IS NULL AND r.tag IS NOT NULL
    UNION ALL
    SELECT r.id, r.kind, m.id, m.account_id
    FROM alert_rules r JOIN monitors m ON m.account_id = r.account_id
    WHERE r.enabled AND m.enabled AND r.monitor_id IS NULL AND r.tag IS NULL;

-- One incident per (rule, monitor) per episode: the partial unique index makes a second
-- open incident impossible, whichever evaluator inserts it. good_streak counts evaluations
-- in a row with the condition false (recovery hysteresis for window kinds).
CREATE TABLE incidents (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id         integer NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    rule_id            integer NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
    monitor_id         integer NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    state              text    NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    started_at         timestamptz NOT NULL,
    fired_at           timestamptz,
    resolved_at        timestamptz,
    last_evaluated_at  timestamptz NOT NULL,
    last_notified_at   timestamptz,
    reminders          integer NOT NULL DEFAULT 0,
    good_streak        integer NOT NULL DEFAULT 0,
    summary            text    NOT NULL DEFAULT '',
    reason             jsonb   NOT NULL DEFAULT '{}',
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE UNIQUE INDEX incidents_open_key ON incidents (rule_id, monitor_id) WHERE state <> 'resolved';
CREATE INDEX incidents_episode_idx ON incidents (rule_id, monitor_id, resolved_at);
CREATE INDEX incidents_account_idx ON incidents (account_id, id DESC);

-- Maintenance windows, per monitor (monitor_id) or for the whole account (NULL).
-- One-off: [starts_at, ends_at). Weekly: on each ISO weekday in weekdays (1 = Monday), from
-- start_time local time in time_zone, for duration_s; starts_at/ends_at, when set, bound the
-- period the recurrence is active in.
CREATE TABLE maintenance_windows (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  integer NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    monitor_id  integer REFERENCES monitors(id) ON DELETE CASCADE,
    name        text    NOT NULL DEFAULT '',
    starts_at   timestamptz,
    ends_at     timestamptz,
    weekdays    smallint[],
    start_time  time,
    duration_s  integer CHECK (duration_s BETWEEN 60 AND 86400),
    time_zone   text    NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at),
    CHECK (weekdays IS NULL AND starts_at IS NOT NULL AND ends_at IS NOT NULL
           OR weekdays IS NOT NULL AND start_time IS NOT NULL AND duration_s IS NOT NULL
              AND cardinality(weekdays) BETWEEN 1 AND 7 AND weekdays <@ '{1,2,3,4,5,6,7}')
);
CREATE INDEX maintenance_windows_account_idx ON maintenance_windows (account_id, monitor_id);

-- The occurrences of window w that overlap [from_ts, to_ts), as time ranges. A weekly
-- occurrence is placed in local time, so it keeps its wall-clock hour across DST changes;
-- one that starts the day before from_ts may still reach into it (duration <= 1 day).
CREATE FUNCTION vigil_maintenance_occurrences(w maintenance_windows, from_ts timestamptz, to_ts timestamptz)
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
CREATE FUNCTION vigil_in_maintenance(monitor_id integer, ts timestamptz)
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
CREATE FUNCTION vigil_monitors_in_maintenance(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (monitor_id integer) LANGUAGE sql STABLE AS $$
    SELECT DISTINCT m.id
    FROM maintenance_windows w
    CROSS JOIN LATERAL vigil_maintenance_occurrences(w, from_ts, to_ts) r
    JOIN monitors m ON m.account_id = w.account_id AND (w.monitor_id IS NULL OR w.monitor_id = m.id)
$$;

-- The maintenance periods of the given monitors that overlap [from_ts, to_ts), one row per
-- (monitor, occurrence): SLA queries exclude slots with time <@ period.
CREATE FUNCTION vigil_maintenance_periods(monitor_ids integer[], from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (monitor_id integer, period tstzrange) LANGUAGE sql STABLE AS $$
    SELECT m.id, r
    FROM monitors m
    JOIN maintenance_windows w ON w.account_id = m.account_id AND (w.monitor_id IS NULL OR w.monitor_id = m.id)
    CROSS JOIN LATERAL vigil_maintenance_occurrences(w, from_ts, to_ts) r
    WHERE m.id = ANY (monitor_ids)
$$;

-- The (rule, monitor) pairs of the enabled rules of one kind, with what every kind's
-- evaluation needs, leaving out monitors in maintenance at any time of the evaluated minute
-- [at - 1 min, at]: the slots that minute's tick reads are then inside the window too.
-- open_incident: the pair has an open incident (evaluations that are neither bad nor about
-- an open incident change nothing, and the evaluator skips them).
CREATE FUNCTION vigil_rule_targets(rule_kind text, at timestamptz)
RETURNS TABLE (rule_id integer, monitor_id integer, account_id integer, params jsonb,
               recovery_slots integer, monitor_name text, monitor_kind text, interval_s integer,
               regions text[], region_quorum smallint, slo_target numeric,
               monitor_created_at timestamptz, open_incident boolean)
LANGUAGE sql STABLE AS $$
    SELECT t.rule_id, t.monitor_id, t.account_id, r.params, r.recovery_slots, m.name, m.kind,
           m.interval_s, m.regions, m.region_quorum, m.slo_target, m.created_at,
           o.rule_id IS NOT NULL
    FROM alert_rule_targets t
    JOIN alert_rules r ON r.id = t.rule_id
    JOIN monitors m ON m.id = t.monitor_id
    LEFT JOIN (SELECT i.rule_id, i.monitor_id FROM incidents i WHERE i.state <> 'resolved') o
           ON o.rule_id = t.rule_id AND o.monitor_id = t.monitor_id
    WHERE t.kind = rule_kind
      AND t.monitor_id NOT IN (SELECT mm.monitor_id
                              FROM vigil_monitors_in_maintenance(at - interval '1 minute', at + interval '1 microsecond') mm)
$$;
