-- Users who sign in with an email and a password, their sessions, and accounts an
-- operator can switch off.

-- A disabled account keeps its data; its API keys and users are refused until enabled.
ALTER TABLE accounts ADD COLUMN disabled boolean NOT NULL DEFAULT false;

-- Passwords are stored only as argon2id hashes (their own salt and cost inside). Sign-in
-- failures count towards a lockout; the counter is reset by a successful sign-in.
CREATE TABLE users (
    id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     integer NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('read', 'write', 'admin')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    failed_logins  integer NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    disabled       boolean NOT NULL DEFAULT false
);
-- One user per email whatever its letter case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_account_idx ON users (account_id);

-- One row per sign-in. The refresh token is 256-bit random, so a SHA-256 of it is stored
-- (as for API keys); it is replaced on every refresh and the one before is remembered, so
-- a stolen token used after its owner refreshed ends the whole session. Access tokens name
-- their session: revoking it (logout) refuses them at once.
CREATE TABLE sessions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    refresh_hash   bytea NOT NULL UNIQUE,
    previous_hash  bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    refreshed_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_previous_idx ON sessions (previous_hash) WHERE previous_hash IS NOT NULL;
