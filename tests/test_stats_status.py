"""The status answer's current run over a week of one-minute history rolled up by the real
aggregator. The trace skips the raw rows of clean rolled-up hours; a slot of another status
is still found where the rollups do not show it (hours not rolled yet, hours with late rows
not re-rolled) and where they do (hours days ago), and a run as long as the lookback still
starts at the lookback's first slot."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest

from aggregator.history import Columns, copy_columns
from api.stats.service import STATUS_LOOKBACK
from tests.status_fixtures import roll_up
from vigil.constants import ErrorKind
from vigil.queries import sql

pytestmark = pytest.mark.timeout(120)

STEP = 60
HOUR = 3600
WEEK = int(STATUS_LOOKBACK.total_seconds())


def _ts(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


class History:
    """One-minute slots from a little over the lookback ago up to the current minute (newest),
    in regions eu and us, for monitors of the test's account (quorum 1: a slot is down when
    either region saw it down)."""

    def __init__(self, db: psycopg.Connection, dsn: str, account_id: int) -> None:
        self.db = db
        self.dsn = dsn
        self.account_id = account_id
        db.execute("INSERT INTO regions (name) VALUES ('eu'), ('us') ON CONFLICT DO NOTHING")
        self.regions = dict(db.execute("SELECT name, id FROM regions").fetchall())
        now = int(time.time())
        self.newest = now - now % STEP
        self.start = self.newest - WEEK - 2 * HOUR

    def monitor(self, name: str) -> int:
        return self.db.execute(
            "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions, region_quorum)"
            " VALUES (%s, %s, 'http', 'https://example.com/', 60, 5000, '{eu,us}', 1) RETURNING id",
            (self.account_id, name)).fetchone()[0]

    def write(self, monitor_id: int, region: str, *, up: bool = True, flipped: tuple[int, ...] = (),
              skipped: tuple[int, ...] = (), start: int | None = None) -> None:
        """Every slot from start (default: the history's start) to newest with status `up`,
        except the `flipped` slots (the other status) and the `skipped` ones (no row)."""
        times = np.arange(self.start if start is None else start, self.newest + 1, STEP, dtype=np.int64)
        times = times[~np.isin(times, skipped)]
        ups = np.isin(times, flipped) != up
        self.insert(monitor_id, region, times, ups)

    def insert(self, monitor_id: int, region: str, times: np.ndarray, ups: np.ndarray) -> None:
        n = len(times)
        copy_columns(self.db, Columns(
            time=times, monitor_id=np.full(n, monitor_id, dtype=np.int32),
            region_id=np.full(n, self.regions[region], dtype=np.int16),
            latency_us=np.full(n, 50_000, dtype=np.int32), up=ups,
            error_kind=np.where(ups, 0, int(ErrorKind.http_status)).astype(np.int16)))

    async def roll(self) -> None:
        """What the aggregator does every minute: re-roll hours with late rows, roll due hours."""
        await roll_up(self.dsn)

    def watermark(self) -> datetime:
        return self.db.execute("SELECT rolled_until FROM rollup_state WHERE width = '1 hour'").fetchone()[0]

    def rolled_statuses(self, monitor_id: int) -> tuple[int, int, int]:
        """Up, down and missed slots of the monitor's rolled-up hours (under its quorum)."""
        return self.db.execute("SELECT sum(up_slots), sum(down_slots), sum(missed_slots) FROM rollup_1h"
                               " WHERE monitor_id = %s AND region_id = 0", (monitor_id,)).fetchone()


@pytest.fixture
def settings(settings):
    """Answers never cached: some tests ask the same question again after a re-roll."""
    return settings.model_copy(update={"stats_cache_seconds": 0})


@pytest.fixture
def history(db, settings, account) -> History:
    return History(db, settings.database_url, account[0])


async def _status(client, auth, monitor_id: int, region: str | None) -> tuple[dict, float, float]:
    """The status answer (since parsed), and the clock just before and after the request."""
    params = {"limit": 5} | ({"region": region} if region else {})
    before = time.time()
    r = await client.get(f"/api/v1/monitors/{monitor_id}/status", params=params, headers=auth)
    after = time.time()
    assert r.status_code == 200, r.text
    body = r.json()
    body["since"] = datetime.fromisoformat(body["since"]) if body["since"] else None
    return body, before, after


async def _assert_run(client, auth, monitor_id: int, region: str | None, status: str, since: int,
                      lower_bound: bool = False) -> None:
    """The answer is `status` since the slot at `since` (Unix seconds)."""
    body, _, _ = await _status(client, auth, monitor_id, region)
    assert (body["status"], body["since"], body["since_is_lower_bound"]) == (status, _ts(since), lower_bound)


async def _assert_run_spans_lookback(client, auth, monitor_id: int, region: str | None, status: str = "up") -> None:
    """The answer is `status` since the first slot of the lookback, as a lower bound: the first
    one-minute slot at or after the answer's now - lookback, a time between the request's
    start and end."""
    body, before, after = await _status(client, auth, monitor_id, region)
    lo, hi = (_ts(int(-(-(t - WEEK) // STEP) * STEP)) for t in (before, after))
    assert body["status"] == status and body["since_is_lower_bound"] is True and lo <= body["since"] <= hi


async def test_a_slot_of_another_status_not_rolled_yet_ends_a_week_long_run(client, auth, history):
    up_week = history.monitor("up all week")
    down_week = history.monitor("down all week")
    blip = history.newest - 3 * STEP   # after the hourly watermark whenever the test runs
    history.write(up_week, "eu")
    history.write(up_week, "us", flipped=(blip,))
    history.write(down_week, "eu", up=False, flipped=(blip,))
    history.write(down_week, "us", up=False, flipped=(blip,))
    await history.roll()
    assert history.watermark() <= _ts(blip)
    assert history.rolled_statuses(up_week)[1:] == (0, 0)
    assert history.rolled_statuses(down_week)[0::2] == (0, 0)

    await _assert_run(client, auth, up_week, None, "up", blip + STEP)
    await _assert_run(client, auth, down_week, None, "down", blip + STEP)
    await _assert_run(client, auth, down_week, "eu", "down", blip + STEP)
    await _assert_run(client, auth, up_week, "us", "up", blip + STEP)
    await _assert_run_spans_lookback(client, auth, up_week, "eu")


async def test_a_run_as_long_as_the_lookback_starts_at_its_first_slot(client, auth, history, db):
    week = history.monitor("up all week")
    new = history.monitor("up since it was created")
    created = history.newest - 3 * 86_400 - 17 * STEP
    for region in ("eu", "us"):
        history.write(week, region)
        history.write(new, region, start=created)
    await history.roll()
    watermark = history.watermark()

    for region in (None, "eu", "us"):
        await _assert_run_spans_lookback(client, auth, week, region)
        # its first slot lies inside the rolled-up hours whose raw rows the trace skips
        await _assert_run(client, auth, new, region, "up", created, lower_bound=True)

    # what the trace reads: the lookback's start up to its first whole hour, then the hours
    # not rolled yet
    now = datetime.now(UTC)
    trace = db.execute(sql("stats_status_lookback"), {"monitor_id": week, "region_id": None, "status": "up",
                                                      "from": now - STATUS_LOOKBACK}).fetchone()
    first_hour = (now - STATUS_LOOKBACK).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert trace == (now - STATUS_LOOKBACK, first_hour, watermark)


async def test_a_late_row_in_a_rolled_hour_ends_the_run_before_its_re_roll(client, auth, history, db):
    monitor = history.monitor("late down result")
    late = history.newest - 2 * 86_400 - 30 * STEP
    history.write(monitor, "eu")
    history.write(monitor, "us", skipped=(late,))
    await history.roll()
    history.insert(monitor, "us", np.array([late]), np.array([False]))
    hour = _ts(late - late % HOUR)
    assert db.execute("SELECT down_slots FROM rollup_1h WHERE monitor_id = %s AND region_id = 0 AND bucket = %s",
                      (monitor, hour)).fetchone() == (0,)
    assert db.execute("SELECT bucket FROM rollup_dirty WHERE monitor_id = %s AND bucket < %s",
                      (monitor, history.watermark())).fetchall() == [(hour,)]

    for reroll in (False, True):
        if reroll:   # the same answers once the aggregator has re-rolled the hour
            await history.roll()
            assert history.rolled_statuses(monitor)[1] == 1
        await _assert_run(client, auth, monitor, None, "up", late + STEP)
        await _assert_run(client, auth, monitor, "us", "up", late + STEP)
        await _assert_run_spans_lookback(client, auth, monitor, "eu")


async def test_a_slot_of_another_status_in_a_rolled_hour_days_ago_ends_the_run(client, auth, history):
    monitor = history.monitor("down once")
    hour = history.newest - 4 * 86_400
    hour -= hour % HOUR
    down = hour + HOUR - STEP   # the last slot of its hour: the run starts with the next hour
    history.write(monitor, "eu", flipped=(down,))
    history.write(monitor, "us")
    await history.roll()
    assert history.rolled_statuses(monitor)[1:] == (1, 0)
    await _assert_run(client, auth, monitor, None, "up", hour + HOUR)
    await _assert_run(client, auth, monitor, "eu", "up", hour + HOUR)
    await _assert_run_spans_lookback(client, auth, monitor, "us")
