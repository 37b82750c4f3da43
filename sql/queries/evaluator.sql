-- The evaluator, one transaction per rule kind and minute `at`:
--   1. eval_<kind> writes one row per (rule, monitor) into rule_eval: is the condition
--      true now (bad), and for the down kind how many good slots in a row end the history;
--   2. the incidents_* statements move incidents with compare-and-set updates and record
--      what was announced in rule_transitions;
--   3. outbox_enqueue writes one notification per transition and channel (dedupe_key).
-- Every statement is set-based: all rules of the kind at once. rule_eval keeps only the
-- pairs that matter this minute: bad ones and those with an open incident.

-- name: rule_eval_tables
CREATE TEMP TABLE rule_eval (
    rule_id     integer NOT NULL,
    monitor_id  integer NOT NULL,
    account_id  integer NOT NULL,
    bad         boolean NOT NULL,
    good_slots  integer,
    summary     text    NOT NULL,
    reason      jsonb   NOT NULL,
    PRIMARY KEY (rule_id, monitor_id)
) ON COMMIT DROP;
CREATE TEMP TABLE rule_transitions (
    incident_id  bigint  NOT NULL,
    event        text    NOT NULL,
    reminder     integer NOT NULL
) ON COMMIT DROP;

-- name: eval_down
-- Slots are judged by the one slot rule, vigil_slot_status (sql/functions/slots.sql), under
-- the rule's quorum. A region of the monitor with no result yet (pending: its check may still
-- arrive, or the sweeper will mark it missed) could turn out up, down or missed; a slot is
-- decided once its status is the same whether the pending regions end missed or down (then
-- any mix agrees too), and undecided slots are skipped. Missed slots are skipped as well:
-- they neither extend nor break a run. So once every region has reported, the evaluator
-- judges a slot exactly as the stats API and the rollups do.
-- monitor_ids: NULL for every monitor (the tick), else just these (the immediate pass after
-- down results were stored, evaluator/immediate.py): the same rule either way.
-- fail_streak / ok_streak: decided slots in a row, counted back from the newest. The last
-- slots are read with one index scan on (monitor, region, time) per lookback length and
-- region, with the monitors as array keys: the cost follows monitors, not history kept.
INSERT INTO rule_eval (rule_id, monitor_id, account_id, bad, good_slots, summary, reason)
WITH t AS (
    SELECT rule_id, monitor_id, account_id, monitor_name, regions, open_incident,
           (params->>'failures')::int AS failures,
           least(coalesce((params->>'quorum')::int, region_quorum), cardinality(regions)) AS quorum,
           %(at)s::timestamptz - (greatest((params->>'failures')::int, recovery_slots) + 2) * interval_s
                                 * interval '1 second' AS since
    FROM vigil_rule_targets('down', %(at)s)
    WHERE %(monitor_ids)s::integer[] IS NULL OR monitor_id = ANY (%(monitor_ids)s::integer[])
), lookback AS (
    SELECT since, array_agg(DISTINCT monitor_id) AS ids FROM t GROUP BY since
), slots AS (
    SELECT r.monitor_id, r.time,
           count(*) FILTER (WHERE vigil_result_down(r.up, r.error_kind)) AS down_n,
           count(*) FILTER (WHERE r.up) AS up_n, count(*) AS seen_n
    -- one scan per (lookback, region), fenced so the region is a constant of the scan: with
    -- monitor and region fixed, the time range bounds each descent, and a monitor's older
    -- rows in the chunk are never read
    FROM lookback b
    CROSS JOIN regions g
    CROSS JOIN LATERAL (
        SELECT c.monitor_id, c.time, c.up, c.error_kind FROM check_results c
        WHERE c.monitor_id = ANY (b.ids) AND c.region_id = g.id AND c.time >= b.since AND c.time < %(at)s
        OFFSET 0) r
    GROUP BY r.monitor_id, r.time
), judged_slots AS (
    SELECT t.rule_id, t.monitor_id, s.time,
           vigil_slot_status(s.down_n, s.up_n + s.down_n, t.quorum) AS status,
           vigil_slot_status(s.down_n + p.pending, s.up_n + s.down_n + p.pending, t.quorum) AS if_pending_down
    FROM t JOIN slots s ON s.monitor_id = t.monitor_id AND s.time >= t.since
    CROSS JOIN LATERAL (SELECT greatest(cardinality(t.regions) - s.seen_n, 0) AS pending) p
), streaks AS (
    SELECT rule_id, monitor_id, max(time) AS last_slot,
           array_agg(status = 'down' ORDER BY time DESC) AS downs
    FROM judged_slots
    WHERE status <> 'missed' AND status = if_pending_down
    GROUP BY rule_id, monitor_id
), judged AS (
    SELECT t.*, s.last_slot,
           coalesce(array_position(s.downs, false) - 1, cardinality(s.downs)) AS fail_streak,
           coalesce(array_position(s.downs, true) - 1, cardinality(s.downs)) AS ok_streak
    FROM t JOIN streaks s USING (rule_id, monitor_id)
)
SELECT rule_id, monitor_id, account_id, fail_streak >= failures, ok_streak,
       format('%%s is down: %%s failed slot(s) in a row (down in at least %%s of %%s regions)',
              monitor_name, fail_streak, quorum, cardinality(regions)),
       jsonb_build_object('failed_slots', fail_streak, 'good_slots', ok_streak,
                          'failures_needed', failures, 'quorum', quorum,
                          'regions', cardinality(regions), 'last_slot', last_slot)
FROM judged
WHERE fail_streak >= failures OR open_incident;

-- name: eval_heartbeat
-- A heartbeat monitor is missed when no ping came for interval_s + grace_s (counted from its
-- creation if it never pinged).
INSERT INTO rule_eval (rule_id, monitor_id, account_id, bad, good_slots, summary, reason)
SELECT t.rule_id, t.monitor_id, t.account_id, h.since < %(at)s - g.allowed, NULL,
       format('%%s sent no heartbeat since %%s (expected every %%s s)', t.monitor_name,
              h.since, t.interval_s),
       jsonb_build_object('last_ping_at', h.last_ping_at, 'interval_s', t.interval_s,
                          'grace_s', (t.params->>'grace_s')::int)
FROM vigil_rule_targets('heartbeat', %(at)s) t
LEFT JOIN heartbeat_pings p ON p.monitor_id = t.monitor_id
CROSS JOIN LATERAL (SELECT p.last_ping_at, coalesce(p.last_ping_at, t.monitor_created_at) AS since) h
CROSS JOIN LATERAL (SELECT (t.interval_s + (t.params->>'grace_s')::int) * interval '1 second' AS allowed) g
WHERE t.monitor_kind = 'heartbeat' AND (h.since < %(at)s - g.allowed OR t.open_incident);

-- name: eval_tls_expiry
-- The earliest expiry any region saw; no certificate seen yet means no decision.
INSERT INTO rule_eval (rule_id, monitor_id, account_id, bad, good_slots, summary, reason)
SELECT t.rule_id, t.monitor_id, t.account_id,
       c.not_after < %(at)s + (t.params->>'days')::int * interval '1 day', NULL,
       format('the TLS certificate of %%s expires at %%s (%%s days left)', t.monitor_name,
              c.not_after, floor(extract(epoch FROM c.not_after - %(at)s) / 86400)),
       jsonb_build_object('not_after', c.not_after, 'days', (t.params->>'days')::int,
                          'days_left', round((extract(epoch FROM c.not_after - %(at)s) / 86400)::numeric, 2))
FROM vigil_rule_targets('tls_expiry', %(at)s) t
JOIN (SELECT monitor_id, min(not_after) AS not_after FROM tls_certificates GROUP BY monitor_id) c
  ON c.monitor_id = t.monitor_id
WHERE c.not_after < %(at)s + (t.params->>'days')::int * interval '1 day' OR t.open_incident;

-- name: eval_latency
-- pXX of up results over the window, from vigil_window_stats (rollups + open bucket);
-- one call per distinct window length covers every monitor with that window.
INSERT INTO rule_eval (rule_id, monitor_id, account_id, bad, good_slots, summary, reason)
WITH t AS (
    SELECT rule_id, monitor_id, account_id, monitor_name, open_incident,
           (params->>'percentile')::float8 AS pct, (params->>'window_s')::int AS window_s,
           (params->>'threshold_ms')::float8 AS threshold_ms, (params->>'min_checks')::int AS min_checks
    FROM vigil_rule_targets('latency', %(at)s)
), w AS (
    SELECT window_s, array_agg(DISTINCT monitor_id) AS ids FROM t GROUP BY window_s
), s AS (
    SELECT w.window_s, s.monitor_id, s.hist
    FROM w CROSS JOIN LATERAL vigil_window_stats(w.ids, %(at)s - w.window_s * interval '1 second', %(at)s) s
)
SELECT t.rule_id, t.monitor_id, t.account_id, q.value_ms > t.threshold_ms, NULL,
       format('p%%s latency of %%s over %%s s is %%s ms (threshold %%s ms)', t.pct, t.monitor_name,
              t.window_s, round(q.value_ms::numeric, 1), t.threshold_ms),
       jsonb_build_object('percentile', t.pct, 'window_s', t.window_s, 'threshold_ms', t.threshold_ms,
                          'value_ms', round(q.value_ms::numeric, 3), 'checks', q.n)
FROM t JOIN s ON s.window_s = t.window_s AND s.monitor_id = t.monitor_id
CROSS JOIN LATERAL (SELECT vigil_hist_quantile(s.hist, t.pct / 100) / 1000.0 AS value_ms,
                           vigil_hist_count(s.hist) AS n) q
WHERE s.hist IS NOT NULL AND q.n >= t.min_checks AND (q.value_ms > t.threshold_ms OR t.open_incident);

-- name: eval_uptime
INSERT INTO rule_eval (rule_id, monitor_id, account_id, bad, good_slots, summary, reason)
WITH t AS (
    SELECT rule_id, monitor_id, account_id, monitor_name, open_incident,
           (params->>'window_s')::int AS window_s, (params->>'target_pct')::float8 AS target_pct,
           (params->>'min_slots')::int AS min_slots
    FROM vigil_rule_targets('uptime', %(at)s)
), w AS (
    SELECT window_s, array_agg(DISTINCT monitor_id) AS ids FROM t GROUP BY window_s
), s AS (
    SELECT w.window_s, s.monitor_id, s.up_slots, s.down_slots
    FROM w CROSS JOIN LATERAL vigil_window_stats(w.ids, %(at)s - w.window_s * interval '1 second', %(at)s) s
)
SELECT t.rule_id, t.monitor_id, t.account_id, u.pct < t.target_pct, NULL,
       format('uptime of %%s over %%s s is %%s %%%% (target %%s %%%%)', t.monitor_name, t.window_s,
              round(u.pct::numeric, 3), t.target_pct),
       jsonb_build_object('window_s', t.window_s, 'target_pct', t.target_pct,
                          'uptime_pct', round(u.pct::numeric, 4),
                          'up_slots', s.up_slots, 'down_slots', s.down_slots)
FROM t JOIN s ON s.window_s = t.window_s AND s.monitor_id = t.monitor_id
CROSS JOIN LATERAL (SELECT 100.0 * s.up_slots / nullif(s.up_slots + s.down_slots, 0) AS pct) u
WHERE s.up_slots + s.down_slots >= t.min_slots AND (u.pct < t.target_pct OR t.open_incident);

-- name: eval_slo_burn_rate
-- Google SRE workbook, multiwindow multi-burn-rate: burn = error ratio / (1 - SLO). A pair
-- (long, short, factor) fires when both windows burn faster than factor; the rule is bad
-- when any pair fires. Windows of every pair are read with one call per distinct length.
INSERT INTO rule_eval (rule_id, monitor_id, account_id, bad, good_slots, summary, reason)
WITH p AS (
    SELECT t.rule_id, t.monitor_id, t.account_id, t.monitor_name, t.slo_target, t.open_incident,
           1 - t.slo_target / 100 AS budget,
           (e->>'long_s')::int AS long_s, (e->>'short_s')::int AS short_s, (e->>'factor')::float8 AS factor
    FROM vigil_rule_targets('slo_burn_rate', %(at)s) t
    CROSS JOIN LATERAL jsonb_array_elements(t.params->'windows') e
), w AS (
    SELECT win, array_agg(DISTINCT monitor_id) AS ids
    FROM (SELECT long_s AS win, monitor_id FROM p UNION SELECT short_s, monitor_id FROM p) x
    GROUP BY win
), s AS (
    SELECT w.win, s.monitor_id, s.down_slots::float8 / nullif(s.up_slots + s.down_slots, 0) AS err
    FROM w CROSS JOIN LATERAL vigil_window_stats(w.ids, %(at)s - w.win * interval '1 second', %(at)s) s
), pairs AS (
    SELECT p.*, l.err / p.budget AS long_burn, sh.err / p.budget AS short_burn,
           l.err / p.budget > p.factor AND sh.err / p.budget > p.factor AS firing
    FROM p
    JOIN s l ON l.win = p.long_s AND l.monitor_id = p.monitor_id
    JOIN s sh ON sh.win = p.short_s AND sh.monitor_id = p.monitor_id
    WHERE l.err IS NOT NULL AND sh.err IS NOT NULL
)
SELECT rule_id, monitor_id, account_id, bool_or(firing), NULL,
       format('%%s burns its error budget (SLO %%s %%%%) %%s× as fast as allowed over %%s s',
              min(monitor_name), min(slo_target),
              round(max(long_burn) FILTER (WHERE firing)::numeric, 1),
              min(long_s) FILTER (WHERE firing)),
       jsonb_build_object('slo_target', min(slo_target), 'windows', jsonb_agg(jsonb_build_object(
           'long_s', long_s, 'short_s', short_s, 'factor', factor, 'firing', firing,
           'long_burn', round(long_burn::numeric, 3), 'short_burn', round(short_burn::numeric, 3))
           ORDER BY long_s))
FROM pairs GROUP BY rule_id, monitor_id, account_id
HAVING bool_or(firing) OR bool_or(open_incident);

-- name: incidents_resolve
-- Pending incidents end as soon as the condition is false (nobody was told); firing ones
-- after the recovery condition: recovery_slots good slots (down kind) or evaluations.
WITH done AS (
    UPDATE incidents i
    SET state = 'resolved', resolved_at = %(at)s, last_evaluated_at = %(at)s, reason = e.reason
    FROM rule_eval e JOIN alert_rules r ON r.id = e.rule_id
    WHERE i.rule_id = e.rule_id AND i.monitor_id = e.monitor_id
      AND i.state IN ('pending', 'firing') AND i.last_evaluated_at < %(at)s AND NOT e.bad
      AND (i.state = 'pending' OR coalesce(e.good_slots, i.good_streak + 1) >= r.recovery_slots)
    RETURNING i.id, i.fired_at
)
INSERT INTO rule_transitions SELECT id, 'resolved', 0 FROM done WHERE fired_at IS NOT NULL;

-- name: incidents_close_unwatched
-- Open incidents of this kind's rules that nothing evaluates any more (rule or monitor
-- disabled, rule retargeted) end here rather than stay open forever.
WITH done AS (
    UPDATE incidents i
    SET state = 'resolved', resolved_at = %(at)s, last_evaluated_at = %(at)s,
        reason = i.reason || jsonb_build_object('closed', 'the rule no longer watches this monitor')
    FROM alert_rules r
    WHERE r.id = i.rule_id AND r.kind = %(kind)s AND i.state IN ('pending', 'firing')
      AND NOT EXISTS (SELECT 1 FROM alert_rule_targets t
                      WHERE t.rule_id = i.rule_id AND t.monitor_id = i.monitor_id)
    RETURNING i.id, i.fired_at
)
INSERT INTO rule_transitions SELECT id, 'resolved', 0 FROM done WHERE fired_at IS NOT NULL;

-- name: incidents_promote
WITH done AS (
    UPDATE incidents i
    SET state = 'firing', fired_at = %(at)s, last_notified_at = %(at)s, last_evaluated_at = %(at)s,
        good_streak = 0, summary = e.summary, reason = e.reason
    FROM rule_eval e JOIN alert_rules r ON r.id = e.rule_id
    WHERE i.rule_id = e.rule_id AND i.monitor_id = e.monitor_id
      AND i.state = 'pending' AND i.last_evaluated_at < %(at)s AND e.bad
      AND i.started_at + r.pending_s * interval '1 second' <= %(at)s
    RETURNING i.id
)
INSERT INTO rule_transitions SELECT id, 'firing', 0 FROM done;

-- name: incidents_track
UPDATE incidents i
SET good_streak = CASE WHEN e.bad THEN 0 ELSE i.good_streak + 1 END,
    last_evaluated_at = %(at)s, reason = e.reason,
    summary = CASE WHEN e.bad THEN e.summary ELSE i.summary END
FROM rule_eval e
WHERE i.rule_id = e.rule_id AND i.monitor_id = e.monitor_id
  AND i.state IN ('pending', 'firing') AND i.last_evaluated_at < %(at)s;

-- name: incidents_remind
WITH done AS (
    UPDATE incidents i SET reminders = i.reminders + 1, last_notified_at = %(at)s
    FROM rule_eval e JOIN alert_rules r ON r.id = e.rule_id
    WHERE i.rule_id = e.rule_id AND i.monitor_id = e.monitor_id
      AND i.state = 'firing' AND e.bad AND r.renotify_s > 0
      AND i.last_notified_at + r.renotify_s * interval '1 second' <= %(at)s
    RETURNING i.id, i.reminders
)
INSERT INTO rule_transitions SELECT id, 'reminder', reminders FROM done;

-- name: incidents_open
-- A new episode starts only if no incident of this (rule, monitor) is open or ended at or
-- after `at` (so re-running an old minute opens nothing); the partial unique index settles
-- two evaluators inserting at once.
WITH opened AS (
    INSERT INTO incidents (account_id, rule_id, monitor_id, state, started_at, fired_at,
                           last_evaluated_at, last_notified_at, summary, reason, correlation_id, trace_id)
    SELECT e.account_id, e.rule_id, e.monitor_id,
           CASE WHEN r.pending_s = 0 THEN 'firing' ELSE 'pending' END, %(at)s,
           CASE WHEN r.pending_s = 0 THEN %(at)s::timestamptz END, %(at)s,
           CASE WHEN r.pending_s = 0 THEN %(at)s::timestamptz END, e.summary, e.reason,
           %(correlation_id)s, %(trace_id)s
    FROM rule_eval e JOIN alert_rules r ON r.id = e.rule_id
    WHERE e.bad AND NOT EXISTS (
        SELECT 1 FROM incidents i
        WHERE i.rule_id = e.rule_id AND i.monitor_id = e.monitor_id
          AND (i.resolved_at IS NULL OR i.resolved_at >= %(at)s))
    ON CONFLICT (rule_id, monitor_id) WHERE state <> 'resolved' DO NOTHING
    RETURNING id, state
)
INSERT INTO rule_transitions SELECT id, 'firing', 0 FROM opened WHERE state = 'firing';

-- name: outbox_enqueue
-- One notification per announced transition and enabled channel of the rule; the payload
-- format is documented in docs/alerts.md "The outbox payload".
INSERT INTO notifications (account_id, channel_id, incident_id, event, dedupe_key, payload,
                           correlation_id, traceparent)
SELECT i.account_id, c.id, i.id, t.event,
       format('incident:%%s:channel:%%s:%%s', i.id, c.id,
              CASE WHEN t.event = 'reminder' THEN 'reminder:' || t.reminder ELSE t.event END),
       jsonb_build_object(
           'version', 1, 'event', t.event, 'reminder', t.reminder,
           'incident_id', i.id, 'state', i.state, 'severity', r.severity,
           'started_at', i.started_at, 'fired_at', i.fired_at, 'resolved_at', i.resolved_at,
           'summary', CASE WHEN t.event = 'resolved' THEN 'Resolved: ' || i.summary ELSE i.summary END,
           'reason', i.reason,
           'rule', jsonb_build_object('id', r.id, 'name', r.name, 'kind', r.kind),
           'monitor', jsonb_build_object('id', m.id, 'name', m.name, 'target', m.target)),
       %(correlation_id)s, %(traceparent)s
FROM rule_transitions t
JOIN incidents i ON i.id = t.incident_id
JOIN alert_rules r ON r.id = i.rule_id
JOIN monitors m ON m.id = i.monitor_id
JOIN channels c ON c.id = ANY (r.channel_ids) AND c.account_id = i.account_id AND c.enabled
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: open_down_monitors
-- Monitors with an open incident of a down rule: the immediate pass re-evaluates them every
-- few seconds, so recovery (and a pending incident's promotion) need not wait for the tick.
SELECT DISTINCT i.monitor_id
FROM incidents i JOIN alert_rules r ON r.id = i.rule_id
WHERE i.state <> 'resolved' AND r.kind = 'down';

-- name: transition_counts
SELECT event, count(*) AS n FROM rule_transitions GROUP BY event;

-- name: transition_list
-- The tick's announced transitions, for its log lines (bounded: an outage of every monitor
-- is summed up by transition_counts).
SELECT t.incident_id, t.event, i.rule_id, i.monitor_id
FROM rule_transitions t JOIN incidents i ON i.id = t.incident_id
ORDER BY t.incident_id LIMIT %(limit)s;
