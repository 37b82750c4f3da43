"""A scripted two-week history for the weekly report tests (results with chosen timestamps)."""

from __future__ import annotations

WEEK = "2026-W47"  # Monday 2026-11-16 .. Sunday 2026-11-22 (UTC)
SLOTS_PER_WEEK = 7 * 24 * 6  # one slot every 10 minutes


def seed_history(db, account_id: int) -> tuple[int, int]:
    """Monitor 'shop' (one region): latency 100-199 ms in W47 and 50-99 ms in W46, down for
    3 slots on Wednesday 10:00-10:30 and 1 slot on Friday 15:00. Monitor 'api' (two regions,
    quorum 2): one region down for an hour, the other up, so never down. Returns their ids."""
    db.execute("INSERT INTO regions (name) VALUES ('local'), ('eu') ON CONFLICT DO NOTHING")
    shop = db.execute("INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions, slo_target)"
                      " VALUES (%s, 'shop', 'http', 'https://shop.example.com/', 600, 5000, '{local}', 99.9)"
                      " RETURNING id", (account_id,)).fetchone()[0]
    api = db.execute("INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions,"
                     " region_quorum, slo_target) VALUES (%s, 'api', 'http', 'https://api.example.com/', 600, 5000,"
                     " '{local,eu}', 2, 99.0) RETURNING id", (account_id,)).fetchone()[0]
    db.execute("""
        INSERT INTO check_results (time, monitor_id, region_id, latency_us, up, error_kind)
        SELECT t, %(shop)s, (SELECT id FROM regions WHERE name = 'local'),
               CASE WHEN t >= '2026-11-16' THEN 100000 + (extract(epoch FROM t)::bigint / 600 %% 100) * 1000
                    ELSE 50000 + (extract(epoch FROM t)::bigint / 600 %% 50) * 1000 END,
               NOT (t >= '2026-11-18 10:00+00' AND t < '2026-11-18 10:30+00' OR t = '2026-11-20 15:00+00'),
               CASE WHEN t >= '2026-11-18 10:00+00' AND t < '2026-11-18 10:30+00'
                         OR t = '2026-11-20 15:00+00' THEN 8 ELSE 0 END
        FROM generate_series('2026-11-09 00:00+00'::timestamptz, '2026-11-22 23:50+00', '10 minutes') t
    """, {"shop": shop})
    db.execute("""
        INSERT INTO check_results (time, monitor_id, region_id, latency_us, up, error_kind)
        SELECT t, %(api)s, r.id, 20000,
               NOT (r.name = 'eu' AND t >= '2026-11-17 08:00+00' AND t < '2026-11-17 09:00+00'),
               CASE WHEN r.name = 'eu' AND t >= '2026-11-17 08:00+00' AND t < '2026-11-17 09:00+00' THEN 2 ELSE 0 END
        FROM generate_series('2026-11-16 00:00+00'::timestamptz, '2026-11-22 23:50+00', '10 minutes') t,
             regions r WHERE r.name IN ('local', 'eu')
    """, {"api": api})
    return shop, api
