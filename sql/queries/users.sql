-- name: insert_account
-- A new account, or no row when the name is taken.
INSERT INTO accounts (name) VALUES (%(name)s)
ON CONFLICT (name) DO NOTHING
RETURNING id;

-- name: create_user
INSERT INTO users (account_id, email, password_hash, role)
VALUES (%(account_id)s, %(email)s, %(password_hash)s, %(role)s)
RETURNING id;

-- name: user_for_login
SELECT u.id, u.account_id, u.password_hash, u.role, u.disabled, a.disabled AS account_disabled,
       u.lockouts, greatest(0, ceil(extract(epoch FROM u.locked_until - now())))::int AS locked_for
FROM users u JOIN accounts a ON a.id = u.account_id
WHERE lower(u.email) = lower(%(email)s);

-- name: login_failed
-- Count a wrong password; the failure that reaches the limit locks the user for
-- lockout_seconds (the caller's length for this user's next lockout) and restarts the count.
-- Returns the seconds left of a lockout (0 = not locked).
UPDATE users SET
    failed_logins = CASE WHEN failed_logins + 1 >= %(max_failures)s THEN 0 ELSE failed_logins + 1 END,
    lockouts = CASE WHEN failed_logins + 1 >= %(max_failures)s THEN lockouts + 1 ELSE lockouts END,
    locked_until = CASE WHEN failed_logins + 1 >= %(max_failures)s
                        THEN now() + make_interval(secs => %(lockout_seconds)s) ELSE locked_until END
WHERE id = %(id)s
RETURNING greatest(0, ceil(extract(epoch FROM locked_until - now())))::int AS locked_for;

-- name: login_succeeded
UPDATE users SET failed_logins = 0, locked_until = NULL, lockouts = 0
WHERE id = %(id)s AND (failed_logins <> 0 OR locked_until IS NOT NULL OR lockouts <> 0);

-- name: create_session
INSERT INTO sessions (user_id, refresh_hash, expires_at)
VALUES (%(user_id)s, %(refresh_hash)s, now() + make_interval(days => %(days)s))
RETURNING id;

-- name: rotate_session
-- Replace a live session's refresh token; the old one is remembered to spot its reuse.
UPDATE sessions s SET previous_hash = s.refresh_hash, refresh_hash = %(new_hash)s, refreshed_at = now()
FROM users u JOIN accounts a ON a.id = u.account_id
WHERE s.refresh_hash = %(old_hash)s AND s.revoked_at IS NULL AND s.expires_at > now()
  AND u.id = s.user_id AND NOT u.disabled AND NOT a.disabled
RETURNING s.id, u.id AS user_id;

-- name: session_refusal
-- Why a refresh token did not rotate: its user or account is disabled, or (reused) it was
-- already replaced. No row: unknown, expired or revoked.
SELECT u.disabled, a.disabled AS account_disabled, s.previous_hash = %(hash)s AS reused
FROM sessions s JOIN users u ON u.id = s.user_id JOIN accounts a ON a.id = u.account_id
WHERE (s.refresh_hash = %(hash)s OR s.previous_hash = %(hash)s)
  AND s.revoked_at IS NULL AND s.expires_at > now();

-- name: revoke_session
UPDATE sessions SET revoked_at = now()
WHERE (refresh_hash = %(hash)s OR previous_hash = %(hash)s) AND revoked_at IS NULL
RETURNING id;

-- name: session_principal
-- The user behind a live session, checked on every request made with an access token.
SELECT u.account_id, u.role, u.disabled, a.disabled AS account_disabled
FROM sessions s JOIN users u ON u.id = s.user_id JOIN accounts a ON a.id = u.account_id
WHERE s.id = %(session_id)s AND s.user_id = %(user_id)s AND s.revoked_at IS NULL AND s.expires_at > now();

-- name: disabled_account_ids
SELECT id FROM accounts WHERE disabled;

-- name: prune_sessions
-- A user's ended sessions, dropped when the user signs in again (a day after they ended,
-- so a reused refresh token is still recognised for a while).
DELETE FROM sessions
WHERE user_id = %(user_id)s AND (revoked_at < now() - interval '1 day' OR expires_at < now() - interval '1 day');
