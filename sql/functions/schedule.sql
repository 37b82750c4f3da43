-- monitors.schedule_changed_at (0012_schedule_changed_at.sql) changes only when the schedule
-- does: the interval (slot grid), the regions (whose slots exist) or enabled (a disabled
-- monitor has no slots). The missed-slot sweeper skips slots from before it.
CREATE OR REPLACE FUNCTION vigil_monitor_schedule_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.schedule_changed_at := now();
    RETURN NEW;
END $$;

-- WHEN is checked without calling the function, so other updates cost nothing extra.
CREATE OR REPLACE TRIGGER monitors_schedule_changed BEFORE UPDATE ON monitors FOR EACH ROW
    WHEN (NEW.interval_s IS DISTINCT FROM OLD.interval_s OR NEW.regions IS DISTINCT FROM OLD.regions
          OR NEW.enabled IS DISTINCT FROM OLD.enabled)
    EXECUTE FUNCTION vigil_monitor_schedule_changed();
