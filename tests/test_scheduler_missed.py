from datetime import UTC, datetime, timedelta

from ingest.missed import sweep_missed
from ingest.slots import phase_for, slots_between
from ingest.writer import ResultWriter
from tests.pipeline_fixtures import add_monitors, region_id
from vigil.constants import ErrorKind
from vigil.db import open_pool
from vigil.queries import sql


def _expected_slots(ids, interval, lo, hi):
    return {(m, t) for m in ids for t in slots_between(lo, hi, interval, phase_for(m, interval))}


async def test_sweeper_marks_unchecked_slots_missed_and_keeps_real_results(settings, db, account):
    ids = add_monitors(db, account[0], 5, "http://127.0.0.1:9/", interval_s=10, timeout_ms=1000,
                       created_ago_s=3600)
    rid = region_id(db, "local")
    now = int(datetime.now(UTC).timestamp())
    # A real, up result for one slot of the first monitor, inside the swept window.
    real = slots_between(now - 200, now - 100, 10, phase_for(ids[0], 10))[0]
    db.execute("INSERT INTO check_results (time, monitor_id, region_id, attempts, up) "
               "VALUES (to_timestamp(%s), %s, %s, 1, true)", (real, ids[0], rid))
    pool = await open_pool(settings.database_url)
    try:
        # First sweep only sets up the watermark lookback: everything in (now-300-span, now-span].
        added = await sweep_missed(pool, grace_s=5, first_lookback_s=300,
                                   now=datetime.fromtimestamp(now, UTC))
        again = await sweep_missed(pool, grace_s=5, first_lookback_s=300,
                                   now=datetime.fromtimestamp(now, UTC))
    finally:
        await pool.close()
    span = 1 + 5  # timeout 1 s × 1 attempt + grace 5 s
    want = _expected_slots(ids, 10, now - 300 - span + 1, now - span + 1) - {(ids[0], real)}
    rows = db.execute("SELECT monitor_id, extract(epoch FROM time)::bigint, up, error_kind, attempts "
                      "FROM check_results WHERE error_kind = 13").fetchall()
    assert added == len(want) == len(rows) and again == 0
    assert {(m, t) for m, t, *_ in rows} == want
    assert all(up is False and kind == ErrorKind.missed and attempts == 0 for _, _, up, kind, attempts in rows)
    assert db.execute("SELECT up FROM check_results WHERE monitor_id = %s AND time = to_timestamp(%s)",
                      (ids[0], real)).fetchone() == (True,)


async def test_sweeper_skips_open_windows_and_slots_before_the_monitor_existed(settings, db, account):
    (mid,) = add_monitors(db, account[0], 1, "http://127.0.0.1:9/", interval_s=10, timeout_ms=2000,
                          created_ago_s=30)
    now = datetime.now(UTC)
    pool = await open_pool(settings.database_url)
    try:
        await sweep_missed(pool, grace_s=10, first_lookback_s=3600, now=now)
    finally:
        await pool.close()
    (since,) = db.execute("SELECT greatest(created_at, schedule_changed_at) FROM monitors WHERE id = %s",
                          (mid,)).fetchone()
    times = [r[0] for r in db.execute("SELECT time FROM check_results WHERE monitor_id = %s", (mid,))]
    # created about 30 s ago, window 2 s + 10 s grace: only slots in [since, now-12] qualify.
    assert 1 <= len(times) <= 2
    assert all(since <= t <= now - timedelta(seconds=12) for t in times), (since, now, times)


async def test_a_late_real_result_replaces_the_missed_marker(settings, db, account):
    (mid,) = add_monitors(db, account[0], 1, "http://127.0.0.1:9/", created_ago_s=3600)
    rid = region_id(db, "local")
    slot = datetime(2026, 1, 1, tzinfo=UTC)
    db.execute("INSERT INTO check_results (time, monitor_id, region_id, error_kind, attempts, up) "
               "VALUES (%s, %s, %s, 13, 0, false)", (slot, mid, rid))
    pool = await open_pool(settings.database_url)
    writer = ResultWriter(pool, flush_seconds=0.01)
    writer.start()
    try:
        await writer.write([(slot, mid, 1500, 300, 900, 12, rid, 0, 200, 1, True)])
        # ... and a second copy of the sweeper's marker never overwrites the real result.
        db.execute("INSERT INTO check_results (time, monitor_id, region_id, error_kind, attempts, up) "
                   "VALUES (%s, %s, %s, 13, 0, false) ON CONFLICT DO NOTHING", (slot, mid, rid))
    finally:
        await writer.close()
        await pool.close()
    assert db.execute("SELECT up, error_kind, status_code, attempts FROM check_results").fetchall() == \
        [(True, 0, 200, 1)]


def test_slot_region_agreement_counts_regions_and_applies_the_quorum(db, account):
    (mid,) = add_monitors(db, account[0], 1, "http://127.0.0.1:9/", regions=("eu", "us", "ap"), quorum=2)
    eu, us, ap = (region_id(db, r) for r in ("eu", "us", "ap"))
    t1, t2, t3 = (datetime(2026, 1, 1, 0, 0, s, tzinfo=UTC) for s in (0, 10, 20))
    rows = [  # (time, region, up, error_kind)
        (t1, eu, False, 8), (t1, us, False, 2), (t1, ap, True, 0),   # 2 of 3 down: down
        (t2, eu, False, 8), (t2, us, True, 0), (t2, ap, False, 13),  # 1 down, 1 missed: not down
        (t3, eu, True, 0), (t3, us, True, 0),                        # ap absent: 2 reporting
    ]
    for t, r, up, kind in rows:
        db.execute("INSERT INTO check_results (time, monitor_id, region_id, up, error_kind) "
                   "VALUES (%s, %s, %s, %s, %s)", (t, mid, r, up, kind))
    got = db.execute(sql("slot_region_agreement"), {"monitor_id": mid, "since": t1,
                                                     "until": t3 + timedelta(seconds=1)}).fetchall()
    assert [row[1:] for row in got] == [
        (3, 3, 1, 2, 0, 2, True),
        (3, 3, 1, 1, 1, 2, False),
        (3, 2, 2, 0, 0, 2, False),
    ]


async def _sweep_once(settings, now, lookback_s=300):
    pool = await open_pool(settings.database_url)
    try:
        return await sweep_missed(pool, grace_s=5, first_lookback_s=lookback_s, now=now)
    finally:
        await pool.close()


async def test_a_rename_does_not_stop_the_sweeper_marking_earlier_slots(settings, db, account, client, auth):
    (mid,) = add_monitors(db, account[0], 1, "http://127.0.0.1:9/", interval_s=10, timeout_ms=1000,
                          created_ago_s=3600)
    resp = await client.patch(f"/api/v1/monitors/{mid}", json={"name": "renamed", "target": "http://127.0.0.1:8/"},
                              headers=auth)
    assert resp.status_code == 200, resp.text
    now = datetime.now(UTC)
    added = await _sweep_once(settings, now)
    # Slots in (now - 300 - 6, now - 6]: all 30 swept, though the PATCH came just now.
    assert added == 30
    assert db.execute("SELECT schedule_changed_at FROM monitors WHERE id = %s", (mid,)).fetchone() == (None,)


async def test_a_schedule_change_stops_the_sweeper_before_it(settings, db, account, client, auth):
    ids = add_monitors(db, account[0], 3, "http://127.0.0.1:9/", interval_s=10, timeout_ms=1000,
                       created_ago_s=3600, regions=("local", "eu"))
    for mid, change in zip(ids, ({"interval_s": 20}, {"regions": ["local"]}, {"enabled": False}), strict=True):
        resp = await client.patch(f"/api/v1/monitors/{mid}", json=change, headers=auth)
        assert resp.status_code == 200, resp.text
    await client.patch(f"/api/v1/monitors/{ids[2]}", json={"enabled": True}, headers=auth)
    changed = db.execute("SELECT count(*) FROM monitors WHERE schedule_changed_at > now() - interval '1 minute'"
                         ).fetchone()[0]
    assert changed == 3
    # Every change was just now, and the sweep closes windows up to now - 6 s: nothing to mark.
    assert await _sweep_once(settings, datetime.now(UTC)) == 0
