-- The missed-slot sweeper skips slots from before a monitor's schedule last changed (its
-- slots may have been different then). It used greatest(created_at, updated_at), so any
-- PATCH, even a rename, left the slots just before it never marked missed. This column
-- changes only when the schedule does: the interval (slot grid), the regions (whose slots
-- exist) or enabled (a disabled monitor has no slots). NULL = unchanged since creation.
ALTER TABLE monitors ADD COLUMN schedule_changed_at timestamptz;

-- Existing monitors keep what the sweeper assumed so far.
UPDATE monitors SET schedule_changed_at = updated_at WHERE updated_at > created_at;

-- The trigger that sets it is in sql/functions/schedule.sql.
