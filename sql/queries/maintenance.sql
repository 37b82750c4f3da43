-- name: create_maintenance
INSERT INTO maintenance_windows (account_id, monitor_id, name, starts_at, ends_at, weekdays,
                                 start_time, duration_s, time_zone)
VALUES (%(account_id)s, %(monitor_id)s, %(name)s, %(starts_at)s, %(ends_at)s, %(weekdays)s,
        %(start_time)s, %(duration_s)s, %(time_zone)s)
RETURNING *;

-- name: list_maintenance
SELECT * FROM maintenance_windows
WHERE account_id = %(account_id)s AND id > %(after)s
  AND (%(monitor_id)s::int IS NULL OR monitor_id = %(monitor_id)s OR monitor_id IS NULL)
ORDER BY id LIMIT %(limit)s;

-- name: get_maintenance
SELECT * FROM maintenance_windows WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: update_maintenance
UPDATE maintenance_windows SET
    monitor_id = %(monitor_id)s, name = %(name)s, starts_at = %(starts_at)s, ends_at = %(ends_at)s,
    weekdays = %(weekdays)s, start_time = %(start_time)s, duration_s = %(duration_s)s,
    time_zone = %(time_zone)s
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING *;

-- name: delete_maintenance
DELETE FROM maintenance_windows WHERE id = %(id)s AND account_id = %(account_id)s RETURNING id;

