-- Public status pages, the incidents a team posts on them, and monitor badges.
-- Tables only: the queries that read them are in sql/queries/status.sql.

-- A page belongs to one account and shows only that account's monitors. Its slug is global
-- (it is the page's address). visibility 'link': served only at an unguessable link, whose
-- SHA-256 is stored (the link is shown once, like an API key); the slug then serves nothing.
-- custom_domain: a host name whose requests to "/" are answered with this (public) page.
CREATE TABLE status_pages (
    id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       integer NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    slug             text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    visibility       text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'link')),
    link_token_hash  bytea UNIQUE,
    custom_domain    text UNIQUE CHECK (custom_domain ~ '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (visibility = 'public' OR link_token_hash IS NOT NULL)
);
CREATE INDEX status_pages_account_idx ON status_pages (account_id, id);

CREATE TABLE status_page_sections (
    id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    page_id   integer NOT NULL REFERENCES status_pages(id) ON DELETE CASCADE,
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    position  smallint NOT NULL,
    UNIQUE (page_id, position)
);

-- The monitors a section shows, under a public display name (the monitor's own name,
-- target and regions stay private; show_target opts into showing the target). key names
-- the monitor in the page's badge addresses.
CREATE TABLE status_page_monitors (
    section_id    integer NOT NULL REFERENCES status_page_sections(id) ON DELETE CASCADE,
    page_id       integer NOT NULL REFERENCES status_pages(id) ON DELETE CASCADE,
    monitor_id    integer NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    position      smallint NOT NULL,
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    key           text NOT NULL CHECK (key ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    show_target   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (section_id, position),
    UNIQUE (page_id, key)
);
CREATE INDEX status_page_monitors_monitor_idx ON status_page_monitors (monitor_id);

-- Incidents a team writes for its users, with dated updates. They are not the alerting
-- incidents (those are per rule and monitor, opened and closed by the evaluator): a person
-- decides what to say and when it is over. monitor_ids: the monitors it affects (pages show
-- an incident that affects one of their monitors, or that names none).
CREATE TABLE status_incidents (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   integer NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    impact       text NOT NULL DEFAULT 'minor' CHECK (impact IN ('none', 'minor', 'major', 'critical')),
    status       text NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    monitor_ids  integer[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE INDEX status_incidents_account_idx ON status_incidents (account_id, id DESC);

CREATE TABLE status_incident_updates (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id  bigint NOT NULL REFERENCES status_incidents(id) ON DELETE CASCADE,
    status       text NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    message      text NOT NULL CHECK (length(message) BETWEEN 1 AND 5000),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_incident_updates_incident_idx ON status_incident_updates (incident_id, id);

-- Badges are opt-in per monitor: a row here turns them on. The badge address carries a
-- random token of which only the SHA-256 is kept (shown once when issued).
CREATE TABLE monitor_badges (
    monitor_id  integer PRIMARY KEY REFERENCES monitors(id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
