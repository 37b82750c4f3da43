-- Analytics: the latency histogram type and the hourly/daily rollups (docs/analytics.md).
-- The histogram functions and the window functions readers call are in sql/functions/
-- (histogram.sql, windows.sql).

-- ---------------------------------------------------------------------------------------
-- Histogram: a sorted int4[] of packed entries (bucket index and count, the layout of
-- aggregator/histogram.py and sql/functions/histogram.sql).
CREATE DOMAIN vigil_hist AS integer[];

-- ---------------------------------------------------------------------------------------
-- Rollups, per (bucket, monitor, region). region_id 0 is the monitor-level view: slots
-- decided under the monitor's region_quorum, latency of every up result of any region.
-- Counts: slots = result rows (region) or distinct slot times (region 0); checks = results
-- actually performed (not missed); latency over up results only.
CREATE TABLE rollup_1h (
    bucket          timestamptz NOT NULL,
    monitor_id      integer     NOT NULL,
    region_id       smallint    NOT NULL,
    slots           integer     NOT NULL,
    up_slots        integer     NOT NULL,
    down_slots      integer     NOT NULL,
    missed_slots    integer     NOT NULL,
    checks          integer     NOT NULL,
    latency_min_us  integer,
    latency_max_us  integer,
    latency_sum_us  bigint      NOT NULL,
    p50_us          real,
    p90_us          real,
    p95_us          real,
    p99_us          real,
    hist            vigil_hist  NOT NULL,
    PRIMARY KEY (monitor_id, region_id, bucket)
);
-- Hourly rollups are dropped by age (a year by default) with drop_chunks.
SELECT create_hypertable('rollup_1h', 'bucket', chunk_time_interval => interval '30 days',
                         create_default_indexes => false);

CREATE TABLE rollup_1d (LIKE rollup_1h INCLUDING ALL);

-- How far each rollup is complete: every bucket starting before rolled_until is rolled,
-- except hours listed in rollup_dirty (and the days holding them).
CREATE TABLE rollup_state (
    width         interval PRIMARY KEY,
    rolled_until  timestamptz NOT NULL
);

-- Hours that received rows after they may have been rolled, marked by the late-row
-- triggers on check_results (sql/functions/late_rows.sql).
CREATE TABLE rollup_dirty (
    bucket     timestamptz PRIMARY KEY,
    marked_at  timestamptz NOT NULL DEFAULT now()
);
