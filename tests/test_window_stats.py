import time

import numpy as np
import psycopg
import pytest

from aggregator import histogram
from aggregator.history import SHAPES, Columns, monitor_history
from aggregator.rollup import roll
from aggregator.windows import window_region_stats, window_stats
from tests.analytics_fixtures import DAY, HOUR, exact, insert, make_monitor, ts
from vigil.db import open_pool

pytestmark = pytest.mark.timeout(120)

U, D, M = "up", "down", "missed"


def _slot_rows(mid: int, regions: list[int], t0: int, patterns: list[tuple[str, ...]]) -> Columns:
    times, region, up, kind = [], [], [], []
    for i, pattern in enumerate(patterns):
        for r, state in zip(regions, pattern, strict=True):
            times.append(t0 + 60 * i)
            region.append(r)
            up.append(state == U)
            kind.append({U: 0, D: 8, M: 13}[state])
    n = len(times)
    return Columns(time=np.array(times, dtype=np.int64), monitor_id=np.full(n, mid, dtype=np.int32),
                   region_id=np.array(region, dtype=np.int16), latency_us=np.full(n, 50_000),
                   up=np.array(up), error_kind=np.array(kind, dtype=np.int16))


# (quorum, slot patterns over three regions, expected (up, down, missed))
QUORUM_CASES = [
    (1, [(U, U, U), (D, U, U), (M, M, M), (M, M, U)], (2, 1, 1)),
    (2, [(U, U, U), (D, U, U), (D, D, U), (D, D, M)], (2, 2, 0)),
    (2, [(D, M, M), (U, M, M), (M, M, M), (U, D, M)], (1, 0, 3)),
    (3, [(D, D, U), (D, D, D), (D, D, M), (U, U, U)], (2, 1, 1)),
]


@pytest.mark.parametrize(("quorum", "patterns", "expected"), QUORUM_CASES)
async def test_slots_are_up_down_or_missed_under_the_region_quorum(settings, db, quorum, patterns, expected):
    mid, regions = make_monitor(db, ["eu", "us", "ap"], quorum)
    t0 = int(time.time()) // 60 * 60 - 3600
    insert(db, _slot_rows(mid, regions, t0, patterns))
    row = db.execute("SELECT slots, up_slots, down_slots, missed_slots FROM vigil_window_stats(%s, %s, %s)",
                     ([mid], ts(t0), ts(t0 + 3600))).fetchone()
    assert row == (len(patterns), *expected)
    per_region = db.execute("SELECT region_id, slots, up_slots, down_slots, missed_slots "
                            "FROM vigil_window_region_stats(%s, %s, %s) ORDER BY region_id",
                            ([mid], ts(t0), ts(t0 + 3600))).fetchall()
    for (region, slots, up, down, missed), col in zip(per_region, zip(*patterns, strict=True), strict=True):
        assert region in regions
        assert (slots, up, down, missed) == (len(col), col.count(U), col.count(D), col.count(M))


@pytest.fixture
async def history(settings, db):
    """Three monitors (one per latency shape) over three regions for three days, rolled up."""
    now = int(time.time())
    start = now - 3 * DAY - now % HOUR + 1234
    rng = np.random.default_rng(11)
    monitors, parts = [], []
    for i, shape in enumerate(SHAPES):
        mid, regions = make_monitor(db, ["eu", "us", "ap"], quorum=1 + i % 2)
        cols = monitor_history(rng, mid, regions, start, now - 30, 60, shape, incident_rate_per_day=2,
                               missed_rate=0.02)
        insert(db, cols)
        monitors.append((mid, 1 + i % 2))
        parts.append(cols)
    pool = await open_pool(settings.database_url)
    try:
        await roll(pool)
    finally:
        await pool.close()
    return monitors, parts, regions, start, now


WINDOWS = {  # offsets from the history's start, in seconds
    "within one hour": (2 * HOUR + 60, 2 * HOUR + 1800),
    "unaligned, days and hours": (5 * 60 + 7, 2 * DAY + 5 * HOUR + 13),
    "whole history and the open hour": (-DAY, 4 * DAY),
    "exactly one day": (DAY - 1234 % DAY, 2 * DAY - 1234 % DAY),
}


@pytest.mark.parametrize("window", WINDOWS.values(), ids=WINDOWS.keys())
async def test_window_stats_equal_the_exact_answer(settings, history, window):
    monitors, parts, regions, start, now = history
    lo, hi = start + window[0], start + window[1]
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        got = await window_stats(conn, [m for m, _ in monitors], ts(lo), ts(hi))
        by_region = await window_region_stats(conn, [monitors[0][0]], ts(lo), ts(hi))
    assert [g["monitor_id"] for g in got] == [m for m, _ in monitors]
    for g, (mid, quorum), cols in zip(got, monitors, parts, strict=True):
        want = exact(cols, mid, lo, hi, quorum=quorum)
        for key in ("slots", "up_slots", "down_slots", "missed_slots", "checks", "latency_min_us",
                    "latency_max_us", "latency_sum_us"):
            assert g[key] == want[key], key
        for q, value in want["percentiles"].items():
            assert abs(histogram.quantile(g["hist"], q) - value) <= 0.01 * value, q
        assert g["uptime"] == want["up_slots"] / (want["up_slots"] + want["down_slots"])
    assert [r["region_id"] for r in by_region] == sorted(regions)
    for r in by_region:
        want = exact(parts[0], monitors[0][0], lo, hi, region_id=r["region_id"])
        assert (r["slots"], r["up_slots"], r["down_slots"], r["missed_slots"]) == \
            (want["slots"], want["up_slots"], want["down_slots"], want["missed_slots"])


async def test_python_and_sql_window_stats_agree_exactly(settings, history, db):
    monitors, _, _, start, now = history
    ids = [m for m, _ in monitors]
    lo, hi = ts(start + 300), ts(now + 60)
    sql_rows = db.execute("SELECT * FROM vigil_window_stats(%s, %s, %s) ORDER BY monitor_id", (ids, lo, hi)).fetchall()
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        py_rows = await window_stats(conn, ids, lo, hi)
    cols = ["monitor_id", "slots", "up_slots", "down_slots", "missed_slots", "checks", "latency_min_us",
            "latency_max_us", "latency_sum_us"]
    assert [tuple(r[:-1]) for r in sql_rows] == [tuple(p[c] for c in cols) for p in py_rows]
    assert [r[-1] for r in sql_rows] == [p["hist"].tolist() for p in py_rows]
    sql_q = db.execute("SELECT vigil_hist_quantiles(hist, '{0.5,0.99,0.999}') FROM vigil_window_stats(%s, %s, %s) "
                       "ORDER BY monitor_id", (ids, lo, hi)).fetchall()
    assert [r[0] for r in sql_q] == [histogram.quantiles(p["hist"], [0.5, 0.99, 0.999]) for p in py_rows]


async def test_monitors_without_results_in_the_window_are_left_out(settings, history, db):
    monitors, _, _, start, _ = history
    rows = db.execute("SELECT monitor_id FROM vigil_window_stats(%s, %s, %s)",
                      ([monitors[0][0], 999_999], ts(start - 10 * DAY), ts(start - 9 * DAY))).fetchall()
    assert rows == []
    rows = db.execute("SELECT monitor_id FROM vigil_window_stats(%s, %s, %s)",
                      ([monitors[0][0], 999_999], ts(start), ts(start + DAY))).fetchall()
    assert rows == [(monitors[0][0],)]


async def test_monitors_asked_without_results_change_no_answer(settings, history):
    monitors, _, _, start, now = history
    ids = [m for m, _ in monitors]
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        small = await window_stats(conn, ids, ts(start + 300), ts(now + 60))
        large = await window_stats(conn, ids + list(range(10_000, 10_030)), ts(start + 300), ts(now + 60))
    assert [{**r, "hist": r["hist"].tolist()} for r in large] == [{**r, "hist": r["hist"].tolist()} for r in small]
