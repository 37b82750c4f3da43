-- Pipeline: the missed-slot sweeper's watermark (the per-slot region agreement view,
-- slot_region_agreement, is in sql/functions/slots.sql).

-- Sweeper progress: slots whose check window closed at or before swept_to have been
-- looked at. One row per sweeper name; schedulers lock it (FOR UPDATE) so two of them
-- sweep one after the other, never the same range twice at once.
CREATE TABLE sweep_watermarks (
    name       text PRIMARY KEY,
    swept_to   timestamptz NOT NULL
);
