-- name: lock_sweep_watermark
-- The sweeper's watermark, locked for this transaction (a second scheduler waits).
INSERT INTO sweep_watermarks (name, swept_to) VALUES ('missed', %(start)s)
ON CONFLICT (name) DO UPDATE SET swept_to = sweep_watermarks.swept_to
RETURNING swept_to;

-- name: sweep_missed_slots
-- Every slot of every enabled monitor and region whose check window (timeout × attempts
-- plus grace) closed in (swept_to, now] and that has no row gets a row with
-- error_kind = vigil_missed_kind() and up = false. Slot maths as in ingest/slots.py: the phase
-- is Knuth's multiplicative hash of the id modulo the interval. Slots before the monitor
-- was created or its schedule (interval, regions, enabled) last changed are skipped (they
-- may have been different then); other changes (a rename, a new target) do not matter.
-- Whole seconds: a window closes at the second after it ends (floor), and a slot counts
-- only from the first whole second of the monitor's schedule (ceil); a cast to bigint
-- would round instead and could mark a slot half a second early.
-- ON CONFLICT DO NOTHING: a real result is never overwritten.
WITH m AS (
    SELECT m.id, r.id AS region_id, m.interval_s,
           ((m.id::bigint * 2654435761) & 4294967295) %% m.interval_s AS phase,
           (m.timeout_ms::bigint * greatest(1, coalesce((m.expectations ->> 'attempts')::int, 1)))
               / 1000 + %(grace_s)s AS span_s,
           ceil(extract(epoch FROM greatest(m.created_at, m.schedule_changed_at)))::bigint AS since
    FROM monitors m
    JOIN regions r ON r.name = ANY (m.regions)
    WHERE m.enabled
), w AS (
    SELECT m.*, floor(extract(epoch FROM %(swept_to)s::timestamptz))::bigint - m.span_s AS lo,
                floor(extract(epoch FROM %(now)s::timestamptz))::bigint - m.span_s AS hi
    FROM m
), slots AS (
    SELECT w.id, w.region_id, s
    FROM w, generate_series(
        greatest(w.lo + 1, w.since) + ((w.phase - greatest(w.lo + 1, w.since)) %% w.interval_s + w.interval_s) %% w.interval_s,
        w.hi, w.interval_s) AS s
)
INSERT INTO check_results (time, monitor_id, region_id, error_kind, attempts, up)
SELECT to_timestamp(s), id, region_id, vigil_missed_kind(), 0, false
FROM slots
ON CONFLICT DO NOTHING;

-- name: advance_sweep_watermark
UPDATE sweep_watermarks SET swept_to = %(now)s WHERE name = 'missed';

-- name: slot_region_agreement
-- Per slot of one monitor: regions up / down / missed and whether the quorum says down.
SELECT time, regions_expected, regions_reporting, regions_up, regions_down, regions_missed,
       region_quorum, down
FROM slot_region_agreement
WHERE monitor_id = %(monitor_id)s AND time >= %(since)s AND time < %(until)s
ORDER BY time;

-- name: own_monitor_ids
-- Which of these monitor ids belong to the account.
SELECT id FROM monitors WHERE account_id = %(account_id)s AND id = ANY (%(ids)s::int[]);
