-- Check engine: heartbeat (push) monitor tokens.
-- A heartbeat monitor is pinged at /api/v1/heartbeats/<token> by a cron job that has no
-- API key, so the token alone is the credential. Only its SHA-256 is stored (as for API
-- keys): it is 192-bit random, so a fast hash is right, and a leaked database cannot be
-- used to fake pings. The token is shown once, when issued; issuing again replaces it.
CREATE TABLE heartbeat_tokens (
    monitor_id  integer PRIMARY KEY REFERENCES monitors(id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
