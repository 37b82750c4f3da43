-- Pipeline: the missed-slot sweeper's watermark and the per-slot region agreement view.

-- Sweeper progress: slots whose check window closed at or before swept_to have been
-- looked at. One row per sweeper name; schedulers lock it (FOR UPDATE) so two of them
-- sweep one after the other, never the same range twice at once.
CREATE TABLE sweep_watermarks (
    name       text PRIMARY KEY,
    swept_to   timestamptz NOT NULL
);

-- Per (monitor, slot): how many regions reported, saw it up, saw it down, or missed it,
-- and whether the monitor's region quorum agrees it was down. A missed region is neither
-- up nor down: it never counts as up, and it does not count towards the down quorum.
-- Filter on monitor_id and time so Timescale excludes chunks.
CREATE VIEW slot_region_agreement AS
SELECT r.monitor_id,
       r.time,
       cardinality(m.regions)                                  AS regions_expected,
       count(*)::int                                           AS regions_reporting,
       (count(*) FILTER (WHERE r.up))::int                     AS regions_up,
       (count(*) FILTER (WHERE NOT r.up AND r.error_kind <> 13))::int AS regions_down,
       (count(*) FILTER (WHERE r.error_kind = 13))::int        AS regions_missed,
       m.region_quorum,
       count(*) FILTER (WHERE NOT r.up AND r.error_kind <> 13) >= m.region_quorum AS down
FROM check_results r
JOIN monitors m ON m.id = r.monitor_id
GROUP BY r.monitor_id, r.time, m.regions, m.region_quorum;
