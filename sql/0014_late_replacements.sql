-- A slot first recorded as missed (by the scheduler's sweeper) is replaced when its real
-- result arrives late (a requeued dead letter, a writer that held rows through a database
-- outage): the writer's INSERT ... ON CONFLICT DO UPDATE. That fires UPDATE triggers, not
-- INSERT ones, so the late-row marker of 0003 missed it and a rolled hour kept counting
-- the slot as missed. Mark the hour dirty on such updates too, under the same cheap WHEN.
CREATE TRIGGER check_results_late_updates AFTER UPDATE ON check_results
FOR EACH ROW WHEN (NEW.time < statement_timestamp() - interval '2 minutes')
EXECUTE FUNCTION vigil_mark_late_row();
