-- The missed-slot sweeper skips slots from before a monitor's schedule last changed (its
-- slots may have been different then). It used greatest(created_at, updated_at), so any
-- PATCH, even a rename, left the slots just before it never marked missed. This column
-- changes only when the schedule does: the interval (slot grid), the regions (whose slots
-- exist) or enabled (a disabled monitor has no slots). NULL = unchanged since creation.
ALTER TABLE monitors ADD COLUMN schedule_changed_at timestamptz;

-- Existing monitors keep what the sweeper assumed so far.
UPDATE monitors SET schedule_changed_at = updated_at WHERE updated_at > created_at;

CREATE FUNCTION vigil_monitor_schedule_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.schedule_changed_at := now();
    RETURN NEW;
END $$;

-- WHEN is checked without calling the function, so other updates cost nothing extra.
CREATE TRIGGER monitors_schedule_changed BEFORE UPDATE ON monitors FOR EACH ROW
    WHEN (NEW.interval_s IS DISTINCT FROM OLD.interval_s OR NEW.regions IS DISTINCT FROM OLD.regions
          OR NEW.enabled IS DISTINCT FROM OLD.enabled)
    EXECUTE FUNCTION vigil_monitor_schedule_changed();
