-- Alerting: which (rule, monitor) pairs each rule kind evaluates (tables in 0006_alerts.sql).

-- Every (rule, monitor) pair an enabled rule watches. Three joins, not one OR-join, so a
-- single-monitor rule costs one primary-key lookup however many monitors the account has.
CREATE OR REPLACE VIEW alert_rule_targets AS
    SELECT r.id AS rule_id, r.kind, m.id AS monitor_id, m.account_id
    FROM alert_rules r JOIN monitors m ON m.id = r.monitor_id AND m.account_id = r.account_id
    WHERE r.enabled AND m.enabled
    UNION ALL
    SELECT r.id, r.kind, m.id, m.account_id
    FROM alert_rules r JOIN monitors m ON m.account_id = r.account_id AND r.tag = ANY (m.tags)
    WHERE r.enabled AND m.enabled AND r.monitor_id IS NULL AND r.tag IS NOT NULL
    UNION ALL
    SELECT r.id, r.kind, m.id, m.account_id
    FROM alert_rules r JOIN monitors m ON m.account_id = r.account_id
    WHERE r.enabled AND m.enabled AND r.monitor_id IS NULL AND r.tag IS NULL;

-- The (rule, monitor) pairs of the enabled rules of one kind, with what every kind's
-- evaluation needs, leaving out monitors in maintenance at any time of the evaluated minute
-- [at - 1 min, at]: the slots that minute's tick reads are then inside the window too.
-- open_incident: the pair has an open incident (evaluations that are neither bad nor about
-- an open incident change nothing, and the evaluator skips them).
CREATE OR REPLACE FUNCTION vigil_rule_targets(rule_kind text, at timestamptz)
RETURNS TABLE (rule_id integer, monitor_id integer, account_id integer, params jsonb,
               recovery_slots integer, monitor_name text, monitor_kind text, interval_s integer,
               regions text[], region_quorum smallint, slo_target numeric,
               monitor_created_at timestamptz, open_incident boolean)
LANGUAGE sql STABLE AS $$
    SELECT t.rule_id, t.monitor_id, t.account_id, r.params, r.recovery_slots, m.name, m.kind,
           m.interval_s, m.regions, m.region_quorum, m.slo_target, m.created_at,
           o.rule_id IS NOT NULL
    FROM alert_rule_targets t
    JOIN alert_rules r ON r.id = t.rule_id
    JOIN monitors m ON m.id = t.monitor_id
    LEFT JOIN (SELECT i.rule_id, i.monitor_id FROM incidents i WHERE i.state <> 'resolved') o
           ON o.rule_id = t.rule_id AND o.monitor_id = t.monitor_id
    WHERE t.kind = rule_kind
      AND t.monitor_id NOT IN (SELECT mm.monitor_id
                              FROM vigil_monitors_in_maintenance(at - interval '1 minute', at + interval '1 microsecond') mm)
$$;
