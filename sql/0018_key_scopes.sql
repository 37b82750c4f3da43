-- API keys carry a scope instead of a role: read (GET only), write (also changes monitors,
-- rules, maintenance and the like), admin (also account-wide settings: channels, keys).
-- An old member key could only read, so it becomes a read key.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys RENAME COLUMN role TO scope;
UPDATE api_keys SET scope = 'read' WHERE scope = 'member';
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scope_check CHECK (scope IN ('read', 'write', 'admin'));

-- expires_at: NULL = never. requests: how many requests the key made (added in batches by
-- the API processes). rate_limit_per_minute: NULL = the configured default.
ALTER TABLE api_keys
    ADD COLUMN expires_at            timestamptz,
    ADD COLUMN requests              bigint NOT NULL DEFAULT 0,
    ADD COLUMN rate_limit_per_minute integer CHECK (rate_limit_per_minute BETWEEN 1 AND 1000000);

CREATE INDEX api_keys_account_idx ON api_keys (account_id, id) WHERE revoked_at IS NULL;
