-- name: create_account
INSERT INTO accounts (name) VALUES (%(name)s)
ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
RETURNING id;

-- name: create_api_key
INSERT INTO api_keys (account_id, name, prefix, secret_hash, scope, expires_at, rate_limit_per_minute)
VALUES (%(account_id)s, %(name)s, %(prefix)s, %(secret_hash)s, %(scope)s, %(expires_at)s,
        %(rate_limit_per_minute)s)
RETURNING id, prefix, name, scope, created_at, last_used_at, expires_at, requests, rate_limit_per_minute;

-- name: key_by_prefix
SELECT k.id, k.account_id, k.secret_hash, k.scope, extract(epoch FROM k.expires_at)::float8 AS expires_at,
       k.rate_limit_per_minute
FROM api_keys k
WHERE k.prefix = %(prefix)s AND k.revoked_at IS NULL;

-- name: count_key_requests
-- Requests counted in one API process since its last flush, added in one statement.
UPDATE api_keys k SET requests = k.requests + u.n, last_used_at = now()
FROM unnest(%(ids)s::int[], %(counts)s::bigint[]) AS u(id, n)
WHERE k.id = u.id;

-- name: list_api_keys
SELECT id, prefix, name, scope, created_at, last_used_at, expires_at, requests, rate_limit_per_minute
FROM api_keys
WHERE account_id = %(account_id)s AND revoked_at IS NULL
ORDER BY id;

-- name: revoke_account_key
UPDATE api_keys SET revoked_at = now()
WHERE id = %(id)s AND account_id = %(account_id)s AND revoked_at IS NULL
RETURNING prefix;

-- name: revoke_api_key
UPDATE api_keys SET revoked_at = now() WHERE prefix = %(prefix)s AND revoked_at IS NULL
RETURNING id;
