-- name: ensure_regions
-- Adds the names not in regions yet and returns the names that still are not there (the
-- table is full). Only missing names reach the INSERT: an INSERT ... ON CONFLICT takes an
-- identity number for every row it is offered, existing or not, and a smallint identity
-- would be used up by ordinary monitor updates. A region is an operator-scale thing (one
-- per place workers run), so a bounded table of smallint ids is plenty when nothing burns;
-- check_results stores region_id as a smallint in every row and stays that narrow.
WITH wanted AS (
    SELECT DISTINCT name FROM unnest(%(names)s::text[]) AS name
), missing AS (
    SELECT name FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM regions r WHERE r.name = w.name)
), added AS (
    INSERT INTO regions (name)
    SELECT name FROM missing
    WHERE (SELECT count(*) FROM regions) + (SELECT count(*) FROM missing) <= %(max_regions)s
    ON CONFLICT (name) DO NOTHING
    RETURNING name
)
SELECT name FROM missing m
WHERE NOT EXISTS (SELECT 1 FROM added a WHERE a.name = m.name)
  AND NOT EXISTS (SELECT 1 FROM regions r WHERE r.name = m.name)
ORDER BY name;

-- name: create_monitor
INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions,
                      expectations, tags, enabled, slo_target, region_quorum, request_id)
VALUES (%(account_id)s, %(name)s, %(kind)s, %(target)s, %(interval_s)s, %(timeout_ms)s,
        %(regions)s, %(expectations)s, %(tags)s, %(enabled)s, %(slo_target)s, %(region_quorum)s,
        %(request_id)s)
RETURNING *;

-- name: list_monitors
SELECT * FROM monitors
WHERE account_id = %(account_id)s AND id > %(after)s
ORDER BY id
LIMIT %(limit)s;

-- name: get_monitor
SELECT * FROM monitors WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: update_monitor
UPDATE monitors SET
    name = %(name)s, kind = %(kind)s, target = %(target)s, interval_s = %(interval_s)s,
    timeout_ms = %(timeout_ms)s, regions = %(regions)s, expectations = %(expectations)s,
    tags = %(tags)s, enabled = %(enabled)s, slo_target = %(slo_target)s,
    region_quorum = %(region_quorum)s, updated_at = now(), request_id = %(request_id)s
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING *;

-- name: delete_monitor
DELETE FROM monitors WHERE id = %(id)s AND account_id = %(account_id)s RETURNING id;
