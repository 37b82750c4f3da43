-- name: claim_due_notifications
-- Due pending rows, and delivering rows whose lease ended (their worker died), become this
-- worker's for one lease. SKIP LOCKED: two workers claiming at once get disjoint rows.
WITH due AS (
    SELECT id FROM notifications
    WHERE status IN ('pending', 'delivering') AND next_attempt_at <= now()
      AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s::bigint[]))
    ORDER BY next_attempt_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE notifications n
SET status = 'delivering', attempts = n.attempts + 1,
    next_attempt_at = now() + make_interval(secs => CASE WHEN n.event = 'report' THEN %(report_lease_s)s
                                                         ELSE %(lease_s)s END)
FROM due, channels c
WHERE n.id = due.id AND c.id = n.channel_id
RETURNING n.id, n.account_id, n.channel_id, n.incident_id, n.event, n.payload, n.attempts,
          n.created_at, n.correlation_id, n.traceparent, c.kind, c.name AS channel_name, c.config, c.secret_ciphertext, c.enabled;

-- name: record_delivery_outcomes
-- One statement for a whole batch: an attempt row per send, and each notification's new
-- state ('sent', 'pending' with its retry time, or 'dead'). Only rows this worker still
-- holds change: 'delivering' with the attempt number it claimed (a row whose lease ran out
-- and was claimed again belongs to the other worker now).
WITH o AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[], %(attempted_at)s::timestamptz[],
                         %(ok)s::boolean[], %(status_codes)s::integer[], %(errors)s::text[],
                         %(durations)s::integer[], %(statuses)s::text[], %(delays)s::float8[])
        AS o(id, attempt, attempted_at, ok, status_code, error, duration_ms, status, delay_s)
), logged AS (
    INSERT INTO notification_attempts (notification_id, attempted_at, ok, status_code, error, duration_ms)
    SELECT o.id, o.attempted_at, o.ok, o.status_code, o.error, o.duration_ms
    FROM o JOIN notifications n ON n.id = o.id
)
UPDATE notifications n
SET status = o.status,
    last_error = o.error,
    sent_at = CASE WHEN o.ok THEN now() ELSE n.sent_at END,
    next_attempt_at = CASE WHEN o.status = 'pending' THEN now() + make_interval(secs => o.delay_s)
                           ELSE n.next_attempt_at END
FROM o
WHERE n.id = o.id AND n.status = 'delivering' AND n.attempts = o.attempt;

-- name: enqueue_test_notification
INSERT INTO notifications (account_id, channel_id, event, dedupe_key, payload, correlation_id, traceparent)
VALUES (%(account_id)s, %(channel_id)s, 'test', 'test:' || %(channel_id)s || ':' || %(nonce)s, %(payload)s,
        %(correlation_id)s, %(traceparent)s)
RETURNING id, status;

-- name: enqueue_weekly_reports
-- One 'report' notification per enabled email channel of each account (all accounts when
-- account_ids is NULL); the dedupe key makes a second run for the same week a no-op.
INSERT INTO notifications (account_id, channel_id, event, dedupe_key, payload)
SELECT c.account_id, c.id, 'report',
       'report:' || c.account_id || ':' || %(week)s || ':channel:' || c.id,
       jsonb_build_object('week', %(week)s::text, 'account_id', c.account_id)
FROM channels c
WHERE c.kind = 'email' AND c.enabled
  AND EXISTS (SELECT 1 FROM monitors m WHERE m.account_id = c.account_id)
  AND (%(account_ids)s::integer[] IS NULL OR c.account_id = ANY(%(account_ids)s::integer[]))
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id;

-- name: list_notifications
SELECT id, channel_id, incident_id, event, status, attempts, next_attempt_at, last_error,
       created_at, sent_at, payload, correlation_id, split_part(traceparent, '-', 2) AS trace_id
FROM notifications
WHERE account_id = %(account_id)s
  AND (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(event)s::text IS NULL OR event = %(event)s)
  AND (%(channel_id)s::integer IS NULL OR channel_id = %(channel_id)s)
  AND (%(incident_id)s::bigint IS NULL OR incident_id = %(incident_id)s)
  AND (%(before)s::bigint IS NULL OR id < %(before)s)
ORDER BY id DESC
LIMIT %(limit)s;

-- name: get_notification
SELECT id, channel_id, incident_id, event, status, attempts, next_attempt_at, last_error,
       created_at, sent_at, payload, correlation_id, split_part(traceparent, '-', 2) AS trace_id
FROM notifications WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: notification_attempts
SELECT attempted_at, ok, status_code, error, duration_ms
FROM notification_attempts WHERE notification_id = %(id)s
ORDER BY attempted_at, id;

-- name: outbox_undelivered
-- Seconds since the oldest notification still to deliver was queued (0 when none), and how
-- many there are: the notifier's outbox gauges.
SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_age_s, count(*) AS n
FROM notifications WHERE status IN ('pending', 'delivering');
