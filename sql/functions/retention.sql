-- Retention horizons (table retention_horizons, written by retention only): how far back
-- each store still holds whole buckets.

-- The three horizons as one row (NULL: nothing dropped from that store yet), for readers
-- that state which part of a window their figures cover.
CREATE OR REPLACE VIEW retention_kept AS
SELECT max(kept_from) FILTER (WHERE source = 'raw') AS raw_from,
       max(kept_from) FILTER (WHERE source = '1 hour') AS hourly_from,
       max(kept_from) FILTER (WHERE source = '1 day') AS daily_from
FROM retention_horizons;

-- From when raw rows are kept whole ('-infinity' until retention first drops a chunk).
CREATE OR REPLACE FUNCTION vigil_raw_kept_from() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT h.kept_from FROM retention_horizons h WHERE h.source = 'raw'), '-infinity')
$$;
