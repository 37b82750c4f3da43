"""Weekly and four-week rollups (rollup_7d, rollup_28d): each block is the merge of its rolled
days, rolled again with a day that gets late rows, dropped with the days by retention, and
long windows read them with answers equal to the exact ones and to the days-only SQL path."""

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest

from aggregator import histogram, windows
from aggregator.history import Columns, concat, monitor_history
from aggregator.jobs import aggregate
from aggregator.window_plan import floor_to, plan_window
from aggregator.windows import window_region_stats, window_stats
from tests.analytics_fixtures import DAY, HOUR, exact, insert, make_monitor, roll_all, ts
from vigil.db import open_pool

pytestmark = pytest.mark.timeout(180)

WEEK, FOUR_WEEKS = 7 * DAY, 28 * DAY
COLUMNS = "slots, up_slots, down_slots, missed_slots, checks, latency_min_us, latency_max_us, latency_sum_us, hist"


@pytest.fixture
async def history(settings, db):
    """One monitor in three regions (quorum 2), a check every 5 minutes for 64 days, rolled:
    at least one whole four-week block and several whole weeks."""
    mid, regions = make_monitor(db, ["eu", "us", "ap"], 2)
    now = int(time.time())
    start = now - 64 * DAY - now % HOUR + 600
    cols = monitor_history(np.random.default_rng(17), mid, regions, start, now - 30, 300, "bimodal",
                           incident_rate_per_day=2, missed_rate=0.03)
    insert(db, cols)
    await roll_all(settings)
    return mid, regions, cols, start, now


def _merged(rows: list[tuple]) -> tuple:
    """Rollup rows (COLUMNS) merged as the aggregator merges them."""
    mins = [r[5] for r in rows if r[5] is not None]
    maxs = [r[6] for r in rows if r[6] is not None]
    return (*(sum(r[i] for r in rows) for i in range(5)), min(mins, default=None), max(maxs, default=None),
            sum(r[7] for r in rows), histogram.merge([r[8] for r in rows]).tolist())


def _assert_blocks_merge_their_parts(db, monitor_id: int) -> None:
    for table, source, width, parts in (("rollup_7d", "rollup_1d", WEEK, 7), ("rollup_28d", "rollup_7d", FOUR_WEEKS, 4)):
        blocks = db.execute(f"SELECT bucket, region_id, {COLUMNS} FROM {table} WHERE monitor_id = %s",
                            (monitor_id,)).fetchall()
        assert blocks, table
        whole = 0
        for bucket, region, *figures in blocks:
            rows = db.execute(f"SELECT {COLUMNS} FROM {source} WHERE monitor_id = %s AND region_id = %s "
                              f"AND bucket >= %s AND bucket < %s", (monitor_id, region, bucket,
                                                                    bucket + timedelta(seconds=width))).fetchall()
            whole += len(rows) == parts
            assert tuple(figures) == _merged(rows), (table, bucket, region)
        assert whole >= 4, table  # the monitor-level row and three regions of one whole block


async def test_weeks_and_four_week_blocks_are_the_merge_of_their_days(settings, db, history):
    mid, *_ = history
    _assert_blocks_merge_their_parts(db, mid)
    state = dict(db.execute("SELECT width, rolled_until FROM rollup_state").fetchall())
    daily = state[timedelta(days=1)]
    assert state[timedelta(days=7)] == floor_to(daily, timedelta(days=7))
    assert state[timedelta(days=28)] == floor_to(daily, timedelta(days=28))


async def test_a_late_row_rolls_its_week_and_four_week_block_again(settings, db, history):
    mid, regions, cols, start, now = history
    four_weekly = db.execute("SELECT rolled_until FROM rollup_state WHERE width = '28 days'").fetchone()[0]
    t = int(four_weekly.timestamp()) - 10 * DAY + 3 * HOUR + 11  # inside the last whole block
    late = Columns(time=np.array([t], dtype=np.int64), monitor_id=np.array([mid], dtype=np.int32),
                   region_id=np.array(regions[:1], dtype=np.int16), latency_us=np.array([8_765_432]),
                   up=np.array([True]), error_kind=np.zeros(1, dtype=np.int16))
    insert(db, late)
    assert await roll_all(settings) >= 1
    for table, width in (("rollup_1d", DAY), ("rollup_7d", WEEK), ("rollup_28d", FOUR_WEEKS)):
        block = ts(t - (t - int(datetime(2000, 1, 3, tzinfo=UTC).timestamp())) % width)
        assert db.execute(f"SELECT latency_max_us FROM {table} WHERE monitor_id = %s AND region_id = %s "
                          f"AND bucket = %s", (mid, regions[0], block)).fetchone()[0] == 8_765_432, table
    _assert_blocks_merge_their_parts(db, mid)
    everything = concat([cols, late])
    window = (start + 3 * DAY + 1234, now)
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        got = (await window_stats(conn, [mid], ts(window[0]), ts(window[1])))[0]
    want = exact(everything, mid, *window, quorum=2)
    assert (got["slots"], got["up_slots"], got["down_slots"], got["latency_max_us"]) == \
        (want["slots"], want["up_slots"], want["down_slots"], 8_765_432)


WINDOWS = {  # offsets from the history's start; whether the plan reads four-week blocks, weeks
    "all of it, unaligned": (17 * 60 + 5, 70 * DAY, True, None),
    "five weeks and a bit": (9 * DAY + 5 * HOUR + 7, 44 * DAY + 13 * HOUR, None, True),
    "one day, inside a block": (30 * DAY + 2 * HOUR, 31 * DAY + 2 * HOUR, False, False),
}


@pytest.mark.parametrize("window", WINDOWS.values(), ids=WINDOWS.keys())
async def test_long_windows_equal_the_exact_answer_and_the_days_only_path(settings, db, history, window):
    mid, regions, cols, start, now = history
    lo, hi = start + window[0], min(start + window[1], now)
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        got = (await window_stats(conn, [mid], ts(lo), ts(hi)))[0]
        by_region = await window_region_stats(conn, [mid], ts(lo), ts(hi))
    state = dict(db.execute("SELECT width, rolled_until FROM rollup_state").fetchall())
    plan = plan_window(ts(lo), ts(hi), state[timedelta(hours=1)], state[timedelta(days=1)], None, [],
                       state[timedelta(days=7)], state[timedelta(days=28)])
    assert window[2] is None or bool(plan.four_weeks) == window[2]
    assert window[3] is None or bool(plan.weeks) == window[3]
    want = exact(cols, mid, lo, hi, quorum=2)
    for key in ("slots", "up_slots", "down_slots", "missed_slots", "checks", "latency_min_us",
                "latency_max_us", "latency_sum_us"):
        assert got[key] == want[key], key
    for q, value in want["percentiles"].items():
        assert abs(histogram.quantile(got["hist"], q) - value) <= 0.01 * value, q
    days_only = db.execute(f"SELECT {COLUMNS} FROM vigil_window_stats(%s, %s, %s)", ([mid], ts(lo), ts(hi))).fetchone()
    assert tuple(got[k] for k in COLUMNS.split(", ")[:-1]) == days_only[:-1]
    assert got["hist"].tolist() == days_only[-1]
    regions_sql = db.execute("SELECT region_id, slots, up_slots, hist FROM vigil_window_region_stats(%s, %s, %s) "
                             "ORDER BY region_id", ([mid], ts(lo), ts(hi))).fetchall()
    assert [(r["region_id"], r["slots"], r["up_slots"], r["hist"].tolist()) for r in by_region] == \
        [(r, s, u, h) for r, s, u, h in regions_sql]


async def test_retention_drops_the_blocks_with_their_days(settings, db, history):
    tables = ("rollup_1d", "rollup_7d", "rollup_28d")
    before = {t: [r[0] for r in db.execute(f"SELECT bucket FROM {t}").fetchall()] for t in tables}
    # Short enough that every table, four-week blocks too, holds rows older than the cut.
    short = settings.model_copy(update={"daily_retention_days": 8})
    pool = await open_pool(settings.database_url, max_size=2)
    try:
        await aggregate({"pool": pool, "settings": short})
    finally:
        await pool.close()
    cut = db.execute("SELECT kept_from FROM retention_horizons WHERE source = '1 day'").fetchone()[0]
    for table in tables:
        assert any(b < cut for b in before[table]), table
        assert db.execute(f"SELECT count(*) FROM {table} WHERE bucket < %s", (cut,)).fetchone()[0] == 0, table


async def test_a_late_row_keeps_only_its_own_monitors_blocks_out(settings, db, history):
    """Asked together, a monitor with a dirty hour is read from its own plan (that day from
    hours and raw rows) while the others keep reading the four-week block."""
    mid, regions, cols, start, now = history
    other, other_regions = make_monitor(db, ["eu", "us", "ap"], 2)
    other_cols = monitor_history(np.random.default_rng(23), other, other_regions, start, now - 30, 300, "lognormal",
                                 incident_rate_per_day=1, missed_rate=0.01)
    insert(db, other_cols)
    await roll_all(settings)
    four_weekly = db.execute("SELECT rolled_until FROM rollup_state WHERE width = '28 days'").fetchone()[0]
    t = int(four_weekly.timestamp()) - 12 * DAY + 5 * HOUR + 7
    late = Columns(time=np.array([t], dtype=np.int64), monitor_id=np.array([mid], dtype=np.int32),
                   region_id=np.array(regions[1:2], dtype=np.int16), latency_us=np.array([6_543_210]),
                   up=np.array([True]), error_kind=np.zeros(1, dtype=np.int16))
    insert(db, late)  # not rolled again: the hour stays dirty while the window is read
    lo, hi = start + 600, now
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        got = {r["monitor_id"]: r for r in await window_stats(conn, [mid, other], ts(lo), ts(hi))}
    plans = windows._last_seen.plans(ts(lo), ts(hi))
    assert set(plans.own) == {mid}
    assert plans.together.four_weeks and not any(a <= ts(t) < b for a, b in plans.own[mid].four_weeks)
    for monitor, history_cols in ((mid, concat([cols, late])), (other, other_cols)):
        want = exact(history_cols, monitor, lo, hi, quorum=2)
        assert (got[monitor]["slots"], got[monitor]["up_slots"], got[monitor]["down_slots"],
                got[monitor]["latency_max_us"], got[monitor]["latency_sum_us"]) == \
            (want["slots"], want["up_slots"], want["down_slots"], want["latency_max_us"], want["latency_sum_us"])
    assert got[mid]["latency_max_us"] == 6_543_210
