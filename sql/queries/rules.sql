-- name: create_rule
INSERT INTO alert_rules (account_id, name, kind, monitor_id, tag, params, severity, channel_ids,
                         renotify_s, recovery_slots, pending_s, enabled)
VALUES (%(account_id)s, %(name)s, %(kind)s, %(monitor_id)s, %(tag)s, %(params)s, %(severity)s,
        %(channel_ids)s, %(renotify_s)s, %(recovery_slots)s, %(pending_s)s, %(enabled)s)
RETURNING *;

-- name: list_rules
SELECT * FROM alert_rules
WHERE account_id = %(account_id)s AND id > %(after)s
ORDER BY id LIMIT %(limit)s;

-- name: get_rule
SELECT * FROM alert_rules WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: update_rule
UPDATE alert_rules SET
    name = %(name)s, kind = %(kind)s, monitor_id = %(monitor_id)s, tag = %(tag)s, params = %(params)s,
    severity = %(severity)s, channel_ids = %(channel_ids)s, renotify_s = %(renotify_s)s,
    recovery_slots = %(recovery_slots)s, pending_s = %(pending_s)s, enabled = %(enabled)s,
    updated_at = now()
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING *;

-- name: delete_rule
DELETE FROM alert_rules WHERE id = %(id)s AND account_id = %(account_id)s RETURNING id;

-- name: account_monitor_exists
SELECT 1 FROM monitors WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: account_channel_ids
SELECT id FROM channels WHERE account_id = %(account_id)s AND id = ANY (%(ids)s::int[]);
