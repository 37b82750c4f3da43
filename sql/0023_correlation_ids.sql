-- Correlation ids that lead from what Vigil did to its logs and traces
-- (docs/logs-and-traces.md).

-- The API request that created or last changed a monitor: the scheduler hands it to the
-- worker with the monitor's first check after that change, whose log line carries it.
ALTER TABLE monitors ADD COLUMN request_id text;

-- The evaluation that opened an incident: its job id (every log line of that evaluator
-- tick carries it as job_id) and its trace.
ALTER TABLE incidents ADD COLUMN correlation_id text, ADD COLUMN trace_id text;

-- The evaluation (or API request) that queued a notification, and the W3C traceparent its
-- delivery continues.
ALTER TABLE notifications ADD COLUMN correlation_id text, ADD COLUMN traceparent text;
