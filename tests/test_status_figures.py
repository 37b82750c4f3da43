"""The status page's figures (status_figures, one statement for every monitor) against the
window functions the stats API reads: the same slot counts for today and the last 24 hours,
also with late rows in rolled hours (one in the hour the 24 hours start in), with an
aggregator that lags behind, and for a monitor without results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from aggregator.windows import window_stats
from api.status_pages.snapshot import DAYS, floor_day, slot_figures
from tests.status_fixtures import INTERVAL, roll_up, write_history
from vigil.constants import ErrorKind

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def _grid(t: datetime) -> datetime:
    """The first slot of the history's grid at or after t."""
    seconds = -(-int(t.timestamp()) // INTERVAL) * INTERVAL
    return datetime.fromtimestamp(seconds, UTC)


def _late_down(db: psycopg.Connection, monitor_id: int, slot: datetime) -> None:
    """A down result from a second region arriving after its hour was rolled."""
    region = db.execute("INSERT INTO regions (name) VALUES ('us') ON CONFLICT (name) DO UPDATE SET name = 'us' "
                        "RETURNING id").fetchone()[0]
    db.execute("INSERT INTO check_results (time, monitor_id, region_id, up, error_kind) VALUES (%s, %s, %s, false, %s)",
               (slot, monitor_id, region, int(ErrorKind.http_status)))


async def _compare(dsn: str, ids: list[int], now: datetime, days_back: int) -> dict[int, tuple[int, int]]:
    """Asserts each of the last ``days_back`` + 1 bars and the 24 hours equal the window
    functions' counts; returns the 24 hours' (up, down) per monitor."""
    today = floor_day(now)
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        figures = await slot_figures(conn, ids, today, now)
        assert sorted(figures) == sorted(ids)
        for back in range(days_back + 1):
            start = today - back * DAY
            windows = {s["monitor_id"]: s for s in await window_stats(conn, ids, start, min(start + DAY, now))}
            for mid in ids:
                f, w = figures[mid], windows.get(mid)
                i = DAYS - 1 - back
                assert (f.up[i], f.down[i], f.slots[i]) == (
                    (w["up_slots"], w["down_slots"], w["slots"]) if w else (0, 0, 0)), (mid, start)
        windows = {s["monitor_id"]: s for s in await window_stats(conn, ids, now - DAY, now)}
        for mid in ids:
            w = windows.get(mid)
            assert (figures[mid].up_24h, figures[mid].down_24h) == (
                (w["up_slots"], w["down_slots"]) if w else (0, 0)), mid
    return {mid: (f.up_24h, f.down_24h) for mid, f in figures.items()}


async def test_figures_equal_the_window_functions_with_late_rows_and_a_lagging_aggregator(db, account, settings):
    names = ["web", "api", "db"]
    history = write_history(db, account[0], names, down_now="db", days=3)
    empty = db.execute("INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions) "
                       "VALUES (%s, 'new', 'http', 'https://new.example', 600, 5000, '{eu}') RETURNING id",
                       (account[0],)).fetchone()[0]
    await roll_up(settings.database_url)
    web, api, dbm = (history.ids[n] for n in names)
    ids = [web, api, dbm, empty]
    now = datetime.now(UTC)
    base = await _compare(settings.database_url, ids, now, 0)
    assert base[web][1] == 0 and base[dbm][1] == 3 and base[empty] == (0, 0)

    # Late rows in rolled hours: 20 hours ago, two hours ago, and in the hour the 24 hours
    # start in (after their start when the grid has a slot there, else just before it).
    since = now - DAY
    head = _grid(since)
    head = head if head < floor_day(since) + (since - floor_day(since)) // HOUR * HOUR + HOUR else head - timedelta(
        seconds=INTERVAL)
    marked = db.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0]  # hours not rolled yet
    _late_down(db, web, _grid(now - 20 * HOUR))
    _late_down(db, dbm, _grid(now - 2 * HOUR - timedelta(minutes=30)))
    _late_down(db, api, head)
    assert db.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0] == marked + 3
    now = datetime.now(UTC)
    late = await _compare(settings.database_url, ids, now, 0)
    assert late[web][1] == 1 and late[dbm][1] == 4
    assert late[api][1] == (1 if head >= now - DAY else 0)

    # The aggregator three hours and a day behind: those hours and yesterday from raw rows.
    db.execute("UPDATE rollup_state SET rolled_until = rolled_until - interval '3 hours' WHERE width = '1 hour'")
    db.execute("UPDATE rollup_state SET rolled_until = rolled_until - interval '1 day' WHERE width = '1 day'")
    assert await _compare(settings.database_url, ids, datetime.now(UTC), 1) == late


@pytest.mark.parametrize("rolled", [False, True])
async def test_figures_without_any_rollup_read_yesterday_and_today_from_raw_rows(db, account, settings, rolled):
    history = write_history(db, account[0], ["web"], days=3)
    if rolled:
        await roll_up(settings.database_url)
    await _compare(settings.database_url, list(history.ids.values()), datetime.now(UTC), 1)
