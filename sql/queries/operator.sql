-- name: operator_accounts
-- Every account (or the one asked for) with what it holds.
SELECT a.id, a.name, a.created_at, a.disabled,
       (SELECT count(*) FROM api_keys k WHERE k.account_id = a.id AND k.revoked_at IS NULL)::int AS active_keys,
       (SELECT count(*) FROM users u WHERE u.account_id = a.id)::int AS users,
       (SELECT count(*) FROM monitors m WHERE m.account_id = a.id)::int AS monitors
FROM accounts a
WHERE %(id)s::int IS NULL OR a.id = %(id)s::int
ORDER BY a.id;

-- name: set_account_disabled
UPDATE accounts SET disabled = %(disabled)s WHERE id = %(id)s RETURNING id;

-- name: region_names
SELECT name FROM regions ORDER BY name;
