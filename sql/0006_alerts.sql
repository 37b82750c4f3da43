-- Alerting: rules, incidents and maintenance windows (the outbox is in 0002). The view of
-- the pairs each rule watches and the maintenance functions are in sql/functions/
-- (alerts.sql, maintenance.sql).

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
