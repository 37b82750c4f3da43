-- Foundation: accounts, API keys, regions, monitors and the check_results hypertable.
CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE accounts (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of the key's secret part is stored; the prefix identifies a key in
-- listings and logs without revealing it. Keys are 256-bit random, so a fast hash is
-- right here (a slow password hash would only slow every request).
CREATE TABLE api_keys (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   integer NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    prefix       text NOT NULL UNIQUE,
    secret_hash  bytea NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'member')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Regions get a small integer id so each result row stores 2 bytes, not a name.
CREATE TABLE regions (
    id    smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name  text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,31}$')
);

CREATE TABLE monitors (
    id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       integer NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name             text NOT NULL,
    kind             text NOT NULL,
    target           text NOT NULL,
    interval_s       integer NOT NULL CHECK (interval_s BETWEEN 10 AND 86400),
    timeout_ms       integer NOT NULL CHECK (timeout_ms BETWEEN 100 AND 120000),
    regions          text[] NOT NULL DEFAULT '{local}',
    expectations     jsonb NOT NULL DEFAULT '{}',
    tags             text[] NOT NULL DEFAULT '{}',
    enabled          boolean NOT NULL DEFAULT true,
    slo_target       numeric(6,3) NOT NULL DEFAULT 99.9 CHECK (slo_target > 0 AND slo_target < 100),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (timeout_ms <= interval_s * 1000)
);
CREATE INDEX monitors_account_idx ON monitors (account_id, id);
CREATE INDEX monitors_enabled_idx ON monitors (id) WHERE enabled;

-- One row per (monitor, region, scheduled slot). Columns are NOT NULL with 0 meaning
-- "not applicable" so rows carry no null bitmap, and ordered widest first so the tuple
-- packs into 64 bytes. Durations are integer micro/milliseconds.
CREATE TABLE check_results (
    time         timestamptz NOT NULL,           -- the scheduled slot, not the start time
    monitor_id   integer     NOT NULL,
    latency_us   integer     NOT NULL DEFAULT 0, -- total check duration of the last attempt
    connect_us   integer     NOT NULL DEFAULT 0, -- TCP connect (incl. TLS handshake for https)
    ttfb_us      integer     NOT NULL DEFAULT 0, -- request sent -> first response byte
    lateness_ms  integer     NOT NULL DEFAULT 0, -- slot time -> check start
    region_id    smallint    NOT NULL,
    error_kind   smallint    NOT NULL DEFAULT 0, -- vigil.constants.ErrorKind, 0 = up
    status_code  smallint    NOT NULL DEFAULT 0, -- HTTP status, 0 if none
    attempts     smallint    NOT NULL DEFAULT 1,
    up           boolean     NOT NULL
);

-- The only index: exactly-once storage and every per-monitor time-range read.
-- Timescale's default time index is skipped; nothing reads by time alone.
SELECT create_hypertable(
    'check_results', 'time',
    chunk_time_interval => coalesce(nullif(current_setting('vigil.chunk_interval', true), ''), '1 day')::interval,
    create_default_indexes => false);
SELECT add_dimension(
    'check_results', 'monitor_id',
    number_partitions => coalesce(nullif(current_setting('vigil.hash_partitions', true), ''), '2')::int);
CREATE UNIQUE INDEX check_results_slot_key ON check_results (monitor_id, region_id, time);
