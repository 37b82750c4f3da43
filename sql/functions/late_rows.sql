
-- Late rows: the triggers on check_results that keep rollups true when a result arrives
-- after its hour may have been rolled (tables rollup_dirty, refused_late_rows and
-- retention_horizons in the migrations).
--
-- A late row marks its (monitor, hour) dirty in rollup_dirty; the aggregator re-rolls it. The
-- triggers fire only for rows whose slot is older than LATE_AFTER (2 minutes), a condition
-- evaluated without calling any function, so ordinary ingest pays almost nothing. The
-- aggregator rolls an hour only once it ended ROLL_DELAY (5 minutes, > LATE_AFTER + a writer
-- transaction) ago, so a row either is visible to the roll or marks its hour dirty.
CREATE OR REPLACE FUNCTION vigil_mark_late_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollup_dirty (monitor_id, bucket)
    VALUES (NEW.monitor_id, time_bucket(interval '1 hour', NEW.time))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER check_results_late_rows AFTER INSERT ON check_results
FOR EACH ROW WHEN (NEW.time < statement_timestamp() - interval '2 minutes')
EXECUTE FUNCTION vigil_mark_late_row();

-- A slot first recorded as missed (by the scheduler's sweeper) is replaced when its real
-- result arrives late (a requeued dead letter, a writer that held rows through a database
-- outage): the writer's INSERT ... ON CONFLICT DO UPDATE. That fires UPDATE triggers, not
-- INSERT ones, so a marker on inserts alone would miss it and a rolled hour kept counting
-- the slot as missed. Mark the hour dirty on such updates too, under the same cheap WHEN.
CREATE OR REPLACE TRIGGER check_results_late_updates AFTER UPDATE ON check_results
FOR EACH ROW WHEN (NEW.time < statement_timestamp() - interval '2 minutes')
EXECUTE FUNCTION vigil_mark_late_row();

-- A row older than the raw horizon (vigil_raw_kept_from, retention.sql) is refused and
-- counted in refused_late_rows: its hour's other raw rows are gone, so re-rolling the hour
-- from raw would erase it, and the rollup is all that remains of it.
CREATE OR REPLACE FUNCTION vigil_refuse_past_horizon() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.time < vigil_raw_kept_from() THEN
        INSERT INTO refused_late_rows AS r (monitor_id, bucket, rows)
        VALUES (NEW.monitor_id, time_bucket(interval '1 hour', NEW.time), 1)
        ON CONFLICT (monitor_id, bucket) DO UPDATE SET rows = r.rows + 1, last_refused_at = now();
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

-- Same cheap WHEN as the late-row marker: ordinary ingest never calls the function.
CREATE OR REPLACE TRIGGER check_results_past_horizon BEFORE INSERT ON check_results
FOR EACH ROW WHEN (NEW.time < statement_timestamp() - interval '2 minutes')
EXECUTE FUNCTION vigil_refuse_past_horizon();

