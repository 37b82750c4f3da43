-- Tables that more than one part of Vigil writes or reads, defined once up front.

-- A monitor is down in a slot only when at least region_quorum of its regions saw it down
-- (1 = any region). Uptime, SLA and the down rule all use this.
ALTER TABLE monitors ADD COLUMN region_quorum smallint NOT NULL DEFAULT 1 CHECK (region_quorum >= 1);
ALTER TABLE monitors ADD CONSTRAINT monitors_quorum_le_regions
    CHECK (region_quorum <= cardinality(regions));

-- Latest TLS certificate seen per monitor and region (written by TLS and HTTPS checks,
-- read by the tls_expiry rule and the API).
CREATE TABLE tls_certificates (
    monitor_id  integer     NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    region_id   smallint    NOT NULL REFERENCES regions(id),
    not_after   timestamptz NOT NULL,
    subject     text        NOT NULL DEFAULT '',
    issuer      text        NOT NULL DEFAULT '',
    checked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (monitor_id, region_id)
);

-- Push (heartbeat) monitors: the last ping received through the API.
CREATE TABLE heartbeat_pings (
    monitor_id    integer     PRIMARY KEY REFERENCES monitors(id) ON DELETE CASCADE,
    last_ping_at  timestamptz NOT NULL,
    pings         bigint      NOT NULL DEFAULT 1
);

-- Notification channels of an account. config holds non-secret settings only (URL, address,
-- ...); secrets (webhook signing secret, SMTP password) are kept encrypted in
-- secret_ciphertext and never returned by the API.
CREATE TABLE channels (
    id                 integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id         integer NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind               text    NOT NULL CHECK (kind IN ('webhook', 'slack', 'discord', 'email')),
    name               text    NOT NULL,
    config             jsonb   NOT NULL DEFAULT '{}',
    secret_ciphertext  bytea,
    enabled            boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channels_account_idx ON channels (account_id, id);

-- The notification outbox. The evaluator inserts rows in the same transaction as the
-- incident state change they announce; a delivery job sends them. dedupe_key (e.g.
-- 'incident:<id>:channel:<id>:firing' or ':reminder:<n>') makes a second notification for
-- the same event impossible, whatever runs twice.
CREATE TABLE notifications (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       integer NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel_id       integer NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    incident_id      bigint,
    event            text    NOT NULL CHECK (event IN ('firing', 'resolved', 'reminder', 'test', 'report')),
    dedupe_key       text    NOT NULL UNIQUE,
    payload          jsonb   NOT NULL,
    status           text    NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'delivering', 'sent', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_incident_idx ON notifications (incident_id);

-- Every delivery attempt's outcome, for the API.
CREATE TABLE notification_attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id  bigint  NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    attempted_at     timestamptz NOT NULL DEFAULT now(),
    ok               boolean NOT NULL,
    status_code      integer,
    error            text,
    duration_ms      integer NOT NULL DEFAULT 0
);
CREATE INDEX notification_attempts_idx ON notification_attempts (notification_id, attempted_at);
