-- Late rows never cost history.
--
-- Before: a late row marked its whole hour dirty; the aggregator then deleted every monitor's
-- rollups of that hour and rebuilt them from check_results, and readers took the hour from
-- raw rows only. Once retention had dropped the hour's raw chunk, the raw rows were just the
-- late row: one backfilled result erased the hour for every monitor, for good.
--
-- Now:
-- * dirtiness is per (monitor, hour): a late row re-rolls its own monitor's hour (all its
--   regions and its region-0 row, which depends on every region), nobody else's;
-- * retention records how far each store is kept (retention_horizons); raw rows older than
--   the raw horizon are refused at write time (counted in refused_late_rows) because their
--   hour's other rows are gone and the rollup is all that remains of it;
-- * a dirty mark below the raw horizon (a late row accepted just before retention dropped its
--   chunk) is discarded by the aggregator: the rollup keeps what it had.
-- The triggers and window functions that do this are in sql/functions/ (late_rows.sql,
-- retention.sql, windows.sql).

-- How far back each store still holds whole buckets: raw rows from kept_from on ('raw'),
-- hourly rollups ('1 hour'), daily rollups ('1 day'). Written by retention only; a missing
-- row means nothing was dropped yet.
CREATE TABLE retention_horizons (
    source     text PRIMARY KEY CHECK (source IN ('raw', '1 hour', '1 day')),
    kept_from  timestamptz NOT NULL
);

-- Rows refused because their hour's raw rows were already dropped, per monitor and hour.
CREATE TABLE refused_late_rows (
    monitor_id        integer     NOT NULL,
    bucket            timestamptz NOT NULL,
    rows              bigint      NOT NULL,
    last_refused_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (monitor_id, bucket)
);

-- Dirty marks per monitor. Existing hour-wide marks become one mark per monitor with raw
-- rows in that hour (a monitor with none keeps its rollup as it is).
ALTER TABLE rollup_dirty RENAME TO rollup_dirty_hours;
CREATE TABLE rollup_dirty (
    monitor_id  integer     NOT NULL,
    bucket      timestamptz NOT NULL,
    marked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (monitor_id, bucket)
);
INSERT INTO rollup_dirty (monitor_id, bucket, marked_at)
SELECT DISTINCT c.monitor_id, d.bucket, d.marked_at
FROM rollup_dirty_hours d
JOIN check_results c ON c.time >= d.bucket AND c.time < d.bucket + interval '1 hour';
DROP TABLE rollup_dirty_hours;
