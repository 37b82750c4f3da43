import asyncio
import subprocess
import sys
import time

import numpy as np
import psycopg
import pytest

from aggregator import histogram
from aggregator.history import Columns, concat, monitor_history
from aggregator.jobs import aggregate
from aggregator.rollup import roll
from aggregator.windows import window_region_stats, window_stats
from tests.analytics_fixtures import DAY, HOUR, exact, insert, make_monitor, roll_all, snapshot, ts
from tests.services import service_env
from vigil.constants import ErrorKind
from vigil.db import open_pool

pytestmark = pytest.mark.timeout(120)


def _history(db, days: float = 3, quorum: int = 2, shape: str = "lognormal", seed: int = 5):
    mid, regions = make_monitor(db, ["eu", "us", "ap"], quorum)
    now = int(time.time())
    start = now - int(days * DAY) - now % HOUR + 600
    cols = monitor_history(np.random.default_rng(seed), mid, regions, start, now - 30, 60, shape,
                           incident_rate_per_day=3, missed_rate=0.05)
    insert(db, cols)
    return mid, regions, cols, start, now


async def _stats(settings, mid: int, start: float, end: float) -> dict:
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        rows = await window_stats(conn, [mid], ts(start), ts(end))
    assert len(rows) == 1
    return rows[0]


def _assert_matches(stats: dict, want: dict) -> None:
    for key in ("slots", "up_slots", "down_slots", "missed_slots", "checks", "latency_min_us",
                "latency_max_us", "latency_sum_us"):
        assert stats[key] == want[key], key
    for q, value in want["percentiles"].items():
        assert abs(histogram.quantile(stats["hist"], q) - value) <= 0.01 * value, q


async def test_rolled_up_windows_equal_the_raw_answer_and_the_exact_one(settings, db):
    mid, _, cols, start, now = _history(db)
    window = (start + 17 * 60 + 5, now)  # neither end on an hour
    before = await _stats(settings, mid, *window)
    assert await roll_all(settings) >= 3 * 24 - 1
    assert db.execute("SELECT count(*) FROM rollup_1d WHERE region_id = 0").fetchone()[0] >= 2
    after = await _stats(settings, mid, *window)
    assert after["hist"].tolist() == before["hist"].tolist()
    assert {k: v for k, v in after.items() if k != "hist"} == {k: v for k, v in before.items() if k != "hist"}
    _assert_matches(after, exact(cols, mid, *window, quorum=2))
    assert after["down_slots"] > 0 and after["missed_slots"] > 0


async def test_late_rows_for_a_rolled_hour_are_seen_at_once_and_rolled_again(settings, db):
    mid, regions, cols, start, now = _history(db)
    await roll_all(settings)
    hour = start - start % HOUR + 5 * HOUR
    late = Columns(time=np.array([hour + 7, hour + 8], dtype=np.int64),
                   monitor_id=np.array([mid, mid], dtype=np.int32),
                   region_id=np.array(regions[:2], dtype=np.int16),
                   latency_us=np.array([9_000_000, 9_100_000]), up=np.array([True, True]),
                   error_kind=np.zeros(2, dtype=np.int16))
    insert(db, late)
    assert db.execute("SELECT count(*) FROM rollup_dirty WHERE bucket = %s", (ts(hour),)).fetchone()[0] == 1
    everything = concat([cols, late])
    want = exact(everything, mid, start, now, quorum=2)
    _assert_matches(await _stats(settings, mid, start, now), want)  # before the re-roll
    assert await roll_all(settings) >= 1
    assert db.execute("SELECT count(*) FROM rollup_dirty WHERE bucket < %s", (ts(now - 2 * HOUR),)).fetchone()[0] == 0
    max_us = db.execute("SELECT latency_max_us FROM rollup_1h WHERE monitor_id = %s AND region_id = 0 "
                        "AND bucket = %s", (mid, ts(hour))).fetchone()[0]
    assert max_us == 9_100_000
    day_max = db.execute("SELECT max(latency_max_us) FROM rollup_1d WHERE monitor_id = %s", (mid,)).fetchone()[0]
    assert day_max == 9_100_000
    _assert_matches(await _stats(settings, mid, start, now), want)


async def test_a_window_of_several_raw_pieces_equals_the_exact_answer_per_region(settings, db):
    # Raw pieces: the unaligned head, a dirty (late-row) hour and the open hour, read in
    # one statement and summarised together (vigil_window_parts, sql/functions/windows.sql).
    mid, regions, cols, start, now = _history(db, days=2, seed=11)
    await roll_all(settings)
    hour = start - start % HOUR + 7 * HOUR
    late = Columns(time=np.array([hour + 9], dtype=np.int64), monitor_id=np.array([mid], dtype=np.int32),
                   region_id=np.array(regions[2:], dtype=np.int16), latency_us=np.array([7_000_000]),
                   up=np.array([True]), error_kind=np.zeros(1, dtype=np.int16))
    insert(db, late)
    everything = concat([cols, late])
    window = (start + 17 * 60 + 5, now)
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        by_region = await window_region_stats(conn, [mid], ts(window[0]), ts(window[1]))
    assert [r["region_id"] for r in by_region] == sorted(regions)
    for r in by_region:
        _assert_matches(r, exact(everything, mid, *window, region_id=r["region_id"]))
    assert {r["region_id"]: r["latency_max_us"] for r in by_region}[regions[2]] == 7_000_000
    _assert_matches(await _stats(settings, mid, *window), exact(everything, mid, *window, quorum=2))


async def test_rolling_again_changes_nothing(settings, db):
    _history(db, days=2)
    await roll_all(settings)
    first = snapshot(db)
    assert await roll_all(settings) == 0
    assert snapshot(db) == first


async def test_two_aggregators_at_once_give_the_same_rollups_as_one(settings, db):
    mid, _, cols, start, now = _history(db, days=2)
    pool = await open_pool(settings.database_url, max_size=4)
    try:
        rolled = await asyncio.gather(roll(pool), roll(pool))
    finally:
        await pool.close()
    together = snapshot(db)
    db.execute("TRUNCATE rollup_1h, rollup_1d, rollup_7d, rollup_28d, rollup_state")
    alone = await roll_all(settings)
    assert sum(rolled) == alone  # they shared the hours; none was rolled twice
    assert snapshot(db) == together
    _assert_matches(await _stats(settings, mid, start, now), exact(cols, mid, start, now, quorum=2))


async def test_daily_rollups_are_the_merge_of_their_hours(settings, db):
    _history(db, days=3)
    await roll_all(settings)
    days = db.execute("SELECT bucket, monitor_id, region_id, slots, up_slots, checks, hist FROM rollup_1d").fetchall()
    assert days
    full_days = 0
    for bucket, mid, region, slots, up, checks, hist in days:
        hours = db.execute("SELECT slots, up_slots, checks, hist FROM rollup_1h WHERE monitor_id = %s "
                           "AND region_id = %s AND bucket >= %s AND bucket < %s + interval '1 day'",
                           (mid, region, bucket, bucket)).fetchall()
        full_days += len(hours) == 24
        assert (slots, up, checks) == tuple(sum(h[i] for h in hours) for i in range(3))
        assert hist == histogram.merge([h[3] for h in hours]).tolist()
    assert full_days >= 2 * 4  # two whole days, three regions and the monitor-level row


async def test_open_hour_rows_are_answered_from_raw(settings, db):
    mid, regions, cols, start, now = _history(db, days=1)
    await roll_all(settings)
    fresh = Columns(time=np.array([now + 1], dtype=np.int64), monitor_id=np.array([mid], dtype=np.int32),
                    region_id=np.array(regions[:1], dtype=np.int16), latency_us=np.array([12_345_678]),
                    up=np.array([False]), error_kind=np.array([ErrorKind.refused], dtype=np.int16))
    insert(db, fresh)
    stats = await _stats(settings, mid, start, now + 2)
    assert stats["slots"] == exact(cols, mid, start, now, quorum=2)["slots"] + 1


async def test_retention_drops_old_raw_chunks_and_keeps_their_rollups(settings, db):
    mid, _, cols, start, now = _history(db, days=5)
    chunks = db.execute("SELECT count(*) FROM show_chunks('check_results')").fetchone()[0]
    short = settings.model_copy(update={"raw_retention_days": 2})
    pool = await open_pool(settings.database_url, max_size=2)
    try:
        await aggregate({"pool": pool, "settings": short})
    finally:
        await pool.close()
    left = db.execute("SELECT count(*) FROM show_chunks('check_results')").fetchone()[0]
    assert left < chunks
    oldest = db.execute("SELECT min(time) FROM check_results").fetchone()[0]
    assert oldest.timestamp() >= now - 3 * DAY - 1
    day = start - start % DAY + DAY  # a whole day whose raw rows are gone
    _assert_matches(await _stats(settings, mid, day, day + DAY), exact(cols, mid, day, day + DAY, quorum=2))


def test_aggregator_once_from_the_command_line(settings, db):
    _history(db, days=1)
    out = subprocess.run([sys.executable, "-m", "vigil", "aggregator", "--once"], env=service_env(settings),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("rolled ") and int(out.stdout.split()[1]) >= 23
    assert db.execute("SELECT count(*) FROM rollup_1h").fetchone()[0] > 0


async def test_a_missed_slot_replaced_by_its_late_result_is_rolled_again(settings, db):
    from datetime import UTC, datetime

    from ingest.writer import ResultWriter

    mid, regions = make_monitor(db, ["eu"], 1)
    hour = int(time.time()) // HOUR * HOUR - 3 * HOUR
    slot = datetime.fromtimestamp(hour + 60, UTC)
    db.execute("INSERT INTO check_results (time, monitor_id, region_id, error_kind, attempts, up) "
               "VALUES (%s, %s, %s, %s, 0, false)", (slot, mid, regions[0], int(ErrorKind.missed)))
    await roll_all(settings)
    rolled = "SELECT up_slots, missed_slots FROM rollup_1h WHERE monitor_id = %s AND region_id = 0 AND bucket = %s"
    assert db.execute(rolled, (mid, ts(hour))).fetchone() == (0, 1)

    pool = await open_pool(settings.database_url)
    writer = ResultWriter(pool, flush_seconds=0.01)
    writer.start()
    try:  # the real result, late: replaces the missed row
        await writer.write([(slot, mid, 2500, 300, 900, 50, regions[0], 0, 200, 1, True)])
    finally:
        await writer.close()
        await pool.close()
    assert db.execute("SELECT up FROM check_results WHERE monitor_id = %s", (mid,)).fetchone() == (True,)
    assert db.execute("SELECT count(*) FROM rollup_dirty WHERE bucket = %s", (ts(hour),)).fetchone()[0] == 1
    await roll_all(settings)
    assert db.execute(rolled, (mid, ts(hour))).fetchone() == (1, 0)
