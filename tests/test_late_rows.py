"""Late rows never cost history: re-rolls are per monitor, rows older than the raw horizon
are refused (the rollup is all that is left of their hour), readers follow the same rule,
and stats answers say which part of a window they cover."""

import logging
import random
import time
from datetime import datetime, timedelta

import numpy as np
import psycopg
import pytest

from aggregator import histogram
from aggregator.history import Columns, concat
from aggregator.jobs import aggregate
from aggregator.windows import Horizons, covered, window_region_stats, window_stats
from ingest.writer import ResultWriter
from tests.analytics_fixtures import DAY, HOUR, exact, insert, make_monitor, ts
from vigil.constants import ErrorKind
from vigil.db import open_pool

pytestmark = pytest.mark.timeout(180)

COUNTS = ("slots", "up_slots", "down_slots", "missed_slots", "checks", "latency_min_us",
          "latency_max_us", "latency_sum_us")


def _rows(monitor_id: int, region_id: int, times: list[int], seed: int) -> Columns:
    rng = np.random.default_rng(seed)
    n = len(times)
    up = rng.random(n) > 0.1
    missed = ~up & (rng.random(n) < 0.3)
    return Columns(time=np.array(times, dtype=np.int64), monitor_id=np.full(n, monitor_id, dtype=np.int32),
                   region_id=np.full(n, region_id, dtype=np.int16),
                   latency_us=np.where(up, rng.lognormal(11, 0.6, n).astype(np.int64), 0),
                   up=up, error_kind=np.where(up, 0, np.where(missed, int(ErrorKind.missed), 3)).astype(np.int16))


def _late(monitor_id: int, region_id: int, t: int, latency_us: int = 4_000_000) -> Columns:
    return Columns(time=np.array([t], dtype=np.int64), monitor_id=np.array([monitor_id], dtype=np.int32),
                   region_id=np.array([region_id], dtype=np.int16), latency_us=np.array([latency_us]),
                   up=np.array([True]), error_kind=np.zeros(1, dtype=np.int16))


async def _aggregate(settings) -> int:
    """One `vigil aggregator --once`: roll, retention, packing."""
    pool = await open_pool(settings.database_url)
    try:
        return await aggregate({"pool": pool, "settings": settings})
    finally:
        await pool.close()


async def _stats(settings, ids: list[int], start: float, end: float) -> dict[int, dict]:
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        return {r["monitor_id"]: r for r in await window_stats(conn, ids, ts(start), ts(end))}


def _same(a: dict, b: dict) -> None:
    assert {k: a[k] for k in COUNTS} == {k: b[k] for k in COUNTS}
    assert a["hist"].tolist() == b["hist"].tolist()


def _rollup_1h(db, monitor_id: int, hour: int):
    return db.execute("SELECT slots, up_slots, down_slots, missed_slots, checks, latency_sum_us, hist::text "
                      "FROM rollup_1h WHERE monitor_id = %s AND region_id = 0 AND bucket = %s",
                      (monitor_id, ts(hour))).fetchone()


def _old_day(settings) -> int:
    """Midnight of a day one day past raw retention."""
    now = int(time.time())
    return now - now % DAY - (settings.raw_retention_days + 1) * DAY


async def test_a_late_row_past_retention_is_refused_and_the_hour_is_kept(settings, db, caplog):
    a, (eu,) = make_monitor(db, ["eu"])
    b, _ = make_monitor(db, ["eu"])
    day = _old_day(settings)
    slots = list(range(day + 6 * HOUR, day + 12 * HOUR, 60))  # 06:00-12:00, 360 slots
    gaps = {day + 9 * HOUR + 60 * k for k in range(5)}  # A has no row for five slots at 09:00
    rows_a = _rows(a, eu, [t for t in slots if t not in gaps], seed=1)
    rows_b = _rows(b, eu, slots, seed=2)
    insert(db, concat([rows_a, rows_b]))
    window = (day + 4 * HOUR + 7 * 60, day + 14 * HOUR + 13 * 60)  # 04:07-14:13

    # 1. roll up; retention drops the raw chunk and records the raw horizon.
    await _aggregate(settings)
    assert db.execute("SELECT count(*) FROM check_results WHERE time < %s", (ts(day + DAY),)).fetchone()[0] == 0
    assert db.execute("SELECT kept_from FROM retention_horizons WHERE source = 'raw'").fetchone()[0] >= ts(day + DAY)
    before = await _stats(settings, [a, b], *window)
    assert (before[a]["slots"], before[b]["slots"]) == (355, 360)
    _same(before[a], {**exact(rows_a, a, *window), "hist": histogram.record(rows_a.latency_us[rows_a.up])})
    hour_8 = (_rollup_1h(db, a, day + 8 * HOUR), _rollup_1h(db, b, day + 8 * HOUR))
    assert hour_8[0][0] == 60 and hour_8[1][0] == 60

    # 2. a late result for A at 08:20 (a backfill, a restore, a requeued dead letter) is
    # refused: its hour's raw rows are gone, and rebuilding the hour from it would erase it.
    pool = await open_pool(settings.database_url)
    writer = ResultWriter(pool, flush_seconds=0.01)
    writer.start()
    caplog.set_level(logging.WARNING, logger="ingest.writer")
    try:
        await writer.write([(ts(day + 8 * HOUR + 20 * 60 + 30), a, 2500, 300, 900, 50, eu, 0, 200, 1, True)])
    finally:
        await writer.close()
        await pool.close()
    assert writer.refused_rows == 1 and writer.written_rows == 0
    assert "older than the raw retention horizon" in caplog.text
    assert db.execute("SELECT monitor_id, bucket, rows FROM refused_late_rows").fetchall() == [
        (a, ts(day + 8 * HOUR), 1)]
    assert db.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0] == 0

    # 3. at once, and 4. after the next run: every answer and every rollup row is unchanged.
    for _ in range(2):
        after = await _stats(settings, [a, b], *window)
        _same(after[a], before[a])
        _same(after[b], before[b])
        assert (_rollup_1h(db, a, day + 8 * HOUR), _rollup_1h(db, b, day + 8 * HOUR)) == hour_8
        await _aggregate(settings)
    daily = db.execute("SELECT monitor_id, slots FROM rollup_1d WHERE region_id = 0 AND bucket = %s "
                       "ORDER BY monitor_id", (ts(day),)).fetchall()
    assert daily == [(a, 355), (b, 360)]


async def test_a_late_row_re_rolls_only_its_own_monitor(settings, db):
    a, (eu, us) = make_monitor(db, ["eu", "us"], quorum=2)
    b, _ = make_monitor(db, ["eu", "us"])
    now = int(time.time())
    start = now - now % HOUR - 4 * HOUR
    slots = list(range(start, start + 3 * HOUR, 60))
    rows = concat([_rows(m, r, slots, seed=m * 10 + r) for m in (a, b) for r in (eu, us)])
    insert(db, rows)
    await _aggregate(settings)
    hour = start + HOUR
    row_ids = "SELECT xmin::text, ctid::text FROM rollup_1h WHERE monitor_id = %s AND bucket = %s ORDER BY region_id"
    b_before = db.execute(row_ids, (b, ts(hour))).fetchall()
    day_b_before = db.execute("SELECT xmin::text FROM rollup_1d WHERE monitor_id = %s", (b,)).fetchall()

    late = _late(a, eu, hour + 7)
    insert(db, late)
    assert db.execute("SELECT monitor_id, bucket FROM rollup_dirty").fetchall() == [(a, ts(hour))]
    accepted = concat([rows, late])
    window = (start + 125, now)
    for _ in range(2):  # before the re-roll (A's hour from raw) and after it
        got = await _stats(settings, [a, b], *window)
        for m, quorum in ((a, 2), (b, 1)):
            want = exact(accepted, m, *window, quorum=quorum)
            assert {k: got[m][k] for k in COUNTS} == {k: want[k] for k in COUNTS}
        assert got[a]["latency_max_us"] == 4_000_000
        await _aggregate(settings)
    assert db.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0] == 0
    assert _rollup_1h(db, a, hour)[0] == 61
    # B's rows of that hour (and of its day) were never rewritten.
    assert db.execute(row_ids, (b, ts(hour))).fetchall() == b_before
    assert db.execute("SELECT xmin::text FROM rollup_1d WHERE monitor_id = %s", (b,)).fetchall() == day_b_before


async def test_a_dirty_mark_whose_raw_rows_were_dropped_keeps_the_rollup(settings, db, caplog):
    # A late row accepted just before retention dropped its chunk leaves a mark below the
    # horizon: the aggregator discards it rather than rebuild the hour from nothing.
    a, (eu,) = make_monitor(db, ["eu"])
    day = _old_day(settings)
    rows = _rows(a, eu, list(range(day + 6 * HOUR, day + 8 * HOUR, 60)), seed=3)
    insert(db, rows)
    await _aggregate(settings)
    kept = _rollup_1h(db, a, day + 6 * HOUR)
    db.execute("INSERT INTO rollup_dirty (monitor_id, bucket) VALUES (%s, %s)", (a, ts(day + 6 * HOUR)))
    window = (day, day + DAY)
    _same((await _stats(settings, [a], *window))[a],
          {**exact(rows, a, *window), "hist": histogram.record(rows.latency_us[rows.up])})
    caplog.set_level(logging.WARNING, logger="aggregator.rollup")
    await _aggregate(settings)
    assert "kept the rollups of 1 (monitor, hour) pair" in caplog.text
    assert _rollup_1h(db, a, day + 6 * HOUR) == kept
    assert db.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0] == 0


async def test_retention_keeps_raw_rows_an_hour_still_needs_for_its_re_roll(settings, db):
    a, (eu,) = make_monitor(db, ["eu"])
    day = _old_day(settings)
    insert(db, _rows(a, eu, list(range(day + 6 * HOUR, day + 8 * HOUR, 60)), seed=4))
    pool = await open_pool(settings.database_url)
    try:
        from aggregator.retention import apply_retention
        from aggregator.rollup import roll
        await roll(pool)
        insert(db, _late(a, eu, day + 6 * HOUR + 11))  # marks (a, 06:00) dirty
        async with pool.connection() as conn:
            assert await apply_retention(conn, settings, ts(time.time())) == 0
        assert db.execute("SELECT count(*) FROM check_results").fetchone()[0] == 121
        await roll(pool)  # re-rolls the hour with its late row, then retention may drop it
        async with pool.connection() as conn:
            assert await apply_retention(conn, settings, ts(time.time())) > 0
    finally:
        await pool.close()
    assert _rollup_1h(db, a, day + 6 * HOUR)[0] == 61


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_late_rows_never_change_what_the_rows_and_rollups_say(settings, db, seed):
    rnd = random.Random(seed)
    monitors = []
    for quorum in (1, 2, 1):
        mid, regions = make_monitor(db, ["eu", "us"], quorum)
        monitors.append((mid, regions, quorum))
    ids = [m for m, _, _ in monitors]
    day = _old_day(settings)
    now = int(time.time())
    recent = now - now % HOUR - 5 * HOUR
    old_hours = [day + h * HOUR for h in range(6, 12)]
    new_hours = [recent + h * HOUR for h in range(4)]
    base = concat([_rows(m, r, list(range(h0, h0 + 6 * HOUR, 60)) if h0 == old_hours[0]
                         else list(range(h0, min(h0 + 5 * HOUR, now - 120), 60)), seed * 100 + m * 10 + r)
                   for m, regions, _ in monitors for r in regions for h0 in (old_hours[0], new_hours[0])])
    insert(db, base)
    await _aggregate(settings)
    old_windows = [(day + 6 * HOUR, day + 12 * HOUR), (day + 7 * HOUR, day + 9 * HOUR), (day, day + DAY)]
    snapshot = [await _stats(settings, ids, *w) for w in old_windows]

    accepted, refused = [base], 0
    for i in range(40):
        m, regions, _ = rnd.choice(monitors)
        hour = rnd.choice(old_hours + new_hours)
        t = hour + rnd.randrange(0, HOUR // 60) * 60 + 1 + i  # never on an existing slot
        late = _late(m, rnd.choice(regions), t, rnd.randrange(1_000, 9_000_000))
        insert(db, late)
        if hour in old_hours:
            refused += 1
        else:
            accepted.append(late)
    rows = concat(accepted)
    assert db.execute("SELECT coalesce(sum(rows), 0) FROM refused_late_rows").fetchone()[0] == refused

    new_windows = [(recent + 17, now), (recent + HOUR, recent + 3 * HOUR), (recent + 1234, recent + 2 * HOUR + 5)]
    for _ in range(2):  # before and after the aggregator re-rolls the dirty pairs
        for w, want in zip(old_windows, snapshot, strict=True):
            got = await _stats(settings, ids, *w)
            for m in ids:
                _same(got[m], want[m])
        for w in new_windows:
            got = await _stats(settings, ids, *w)
            for m, _, quorum in monitors:
                want = exact(rows, m, *w, quorum=quorum)
                assert {k: got[m][k] for k in COUNTS} == {k: want[k] for k in COUNTS}
                mask = (rows.monitor_id == m) & (rows.time >= w[0]) & (rows.time < w[1]) & rows.up
                assert got[m]["hist"].tolist() == histogram.record(rows.latency_us[mask]).tolist()
            async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
                per_region = await window_region_stats(conn, ids, ts(w[0]), ts(w[1]))
            for r in per_region:
                want = exact(rows, r["monitor_id"], *w, region_id=r["region_id"])
                assert {k: r[k] for k in COUNTS} == {k: want[k] for k in COUNTS}
        await _aggregate(settings)


H = timedelta(hours=1)


@pytest.mark.parametrize(("start", "end", "kept", "raw_only", "want"), [
    # nothing dropped: the window as asked
    ("01:30", "05:30", Horizons(), False, ("01:30", "05:30")),
    # the window starts after the raw horizon
    ("01:30", "05:30", Horizons(raw="01:00"), False, ("01:30", "05:30")),
    # its head is before it: from the next whole hour (rollups); the tail is raw
    ("01:30", "05:30", Horizons(raw="03:00"), False, ("02:00", "05:30")),
    # both ends before it: whole hours only
    ("01:30", "02:45", Horizons(raw="03:00"), False, ("02:00", "02:00")),
    ("00:10", "02:45", Horizons(raw="03:00"), False, ("01:00", "02:00")),
    # answers from raw rows alone start at the raw horizon
    ("01:30", "05:30", Horizons(raw="03:00"), True, ("03:00", "05:30")),
    ("01:30", "02:45", Horizons(raw="03:00"), True, ("02:45", "02:45")),
])
def test_covered_range_table(start, end, kept, raw_only, want):
    day = ts(20_000 * DAY)

    def at(hhmm):
        return day + timedelta(hours=int(hhmm[:2]), minutes=int(hhmm[3:]))

    kept = Horizons(*(at(v) if v else None for v in (kept.raw, kept.hourly, kept.daily)))
    assert covered(at(start), at(end), kept, raw_only) == (at(want[0]), at(want[1]))


def test_covered_range_past_hourly_retention_keeps_whole_days():
    day, d = ts(20_000 * DAY), timedelta(days=1)
    kept = Horizons(raw=day + 40 * d, hourly=day + 20 * d)
    assert covered(day + 3 * H, day + 5 * d + 3 * H, kept) == (day + d, day + 5 * d)
    m = timedelta(minutes=10)
    assert covered(day + 21 * d + 3 * H + m, day + 22 * d + 3 * H + m, kept) == (day + 21 * d + 4 * H,
                                                                              day + 22 * d + 3 * H)


async def test_stats_api_states_the_covered_range(settings, db, client, auth, account):
    mid = db.execute("INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions) "
                     "VALUES (%s, 'shop', 'http', 'https://example.com', 60, 1000, '{eu}') RETURNING id",
                     (account[0],)).fetchone()[0]
    db.execute("INSERT INTO regions (name) VALUES ('eu') ON CONFLICT DO NOTHING")
    eu = db.execute("SELECT id FROM regions WHERE name = 'eu'").fetchone()[0]
    day = _old_day(settings)
    insert(db, _rows(mid, eu, list(range(day + 6 * HOUR, day + 12 * HOUR, 60)), seed=9))
    asked = (ts(day + 4 * HOUR + 7 * 60), ts(day + 14 * HOUR + 13 * 60))
    params = {"from": asked[0].isoformat(), "to": asked[1].isoformat()}

    def window(answer: dict) -> tuple:
        return tuple(datetime.fromisoformat(answer[k]) for k in ("from", "to", "covered_from", "covered_to"))

    # (a different window than below, so the answer cache does not serve it again)
    first = (await client.get(f"/api/v1/monitors/{mid}/stats", headers=auth,
                              params={**params, "to": (asked[1] + H).isoformat()})).json()
    assert window(first) == (asked[0], asked[1] + H, asked[0], asked[1] + H)
    await _aggregate(settings)  # rolls the day up; retention drops its raw rows
    kept = ts(day + DAY)
    for path, want in (("stats", (ts(day + 5 * HOUR), ts(day + 14 * HOUR))),
                       ("regions", (ts(day + 5 * HOUR), ts(day + 14 * HOUR))),
                       ("series", (ts(day + 5 * HOUR), ts(day + 14 * HOUR))),
                       ("downtimes", (asked[1], asked[1]))):  # read from raw rows alone: nothing left
        got = (await client.get(f"/api/v1/monitors/{mid}/{path}", headers=auth, params=params)).json()
        assert window(got) == (*asked, *want), path
    assert db.execute("SELECT kept_from FROM retention_horizons WHERE source = 'raw'").fetchone()[0] >= kept
    stats = (await client.get(f"/api/v1/monitors/{mid}/stats", headers=auth, params=params)).json()
    assert stats["slots"] == first["slots"] == 360
