-- Rules found by their monitor rather than by reading every rule. The immediate down pass
-- (evaluator/immediate.py) evaluates the rules of a handful of monitors at a time: without this
-- index each pass scanned all rules once per kind of target in alert_rule_targets (about
-- 40 ms at 100,000 rules); with it a per-monitor rule is an index lookup, and tag and
-- account-wide rules (monitor_id IS NULL) are found in the same index. Deleting a monitor
-- finds its rules (ON DELETE CASCADE) the same way.
CREATE INDEX alert_rules_monitor_idx ON alert_rules (monitor_id);
