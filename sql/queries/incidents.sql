-- name: list_incidents
SELECT i.*, r.name AS rule_name, r.kind AS rule_kind, r.severity, m.name AS monitor_name
FROM incidents i
JOIN alert_rules r ON r.id = i.rule_id
JOIN monitors m ON m.id = i.monitor_id
WHERE i.account_id = %(account_id)s
  AND (%(before)s::bigint IS NULL OR i.id < %(before)s)
  AND (%(state)s::text IS NULL OR i.state = %(state)s)
  AND (%(monitor_id)s::int IS NULL OR i.monitor_id = %(monitor_id)s)
ORDER BY i.id DESC LIMIT %(limit)s;

-- name: get_incident
SELECT i.*, r.name AS rule_name, r.kind AS rule_kind, r.severity, m.name AS monitor_name
FROM incidents i
JOIN alert_rules r ON r.id = i.rule_id
JOIN monitors m ON m.id = i.monitor_id
WHERE i.id = %(id)s AND i.account_id = %(account_id)s;

-- name: incident_notifications
SELECT id, channel_id, event, status, attempts, last_error, next_attempt_at, created_at, sent_at,
       correlation_id, split_part(traceparent, '-', 2) AS trace_id
FROM notifications
WHERE incident_id = %(id)s AND account_id = %(account_id)s
ORDER BY id;
