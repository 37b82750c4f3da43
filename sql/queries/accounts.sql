-- name: create_account
INSERT INTO accounts (name) VALUES (%(name)s)
ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
RETURNING id;

-- name: create_api_key
INSERT INTO api_keys (account_id, name, prefix, secret_hash, role)
VALUES (%(account_id)s, %(name)s, %(prefix)s, %(secret_hash)s, %(role)s)
RETURNING id;

-- name: key_by_prefix
SELECT k.id, k.account_id, k.secret_hash, k.role
FROM api_keys k
WHERE k.prefix = %(prefix)s AND k.revoked_at IS NULL;

-- name: touch_api_key
UPDATE api_keys SET last_used_at = now()
WHERE id = %(id)s AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: revoke_api_key
UPDATE api_keys SET revoked_at = now() WHERE prefix = %(prefix)s AND revoked_at IS NULL
RETURNING id;
