"""Materialise rollup_1h and rollup_1d from check_results, incrementally.

State: rollup_state holds how far each width is rolled (a watermark); rollup_dirty lists the
(monitor, hour) pairs that got rows after they may have been rolled (marked by a trigger, see
sql/functions/late_rows.sql). One run:

1. re-rolls each dirty monitor's hour below the hourly watermark, and that monitor's day;
   other monitors of the hour are left alone. A mark whose hour's raw rows retention has
   dropped since is discarded: rebuilding from what is left would erase the hour;
2. rolls new hours, a day's worth per transaction, up to the last hour that ended
   ROLL_DELAY ago; each transaction is one set-based statement for all monitors and
   regions (vigil_raw_stats), then the days that became complete, merged from hours.

Every transaction takes the same advisory lock first, so two aggregators run one after
the other and the second finds nothing to do; a roll replaces its buckets (delete then
insert), so re-running it changes nothing."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

import psycopg
from psycopg_pool import AsyncConnectionPool

from vigil.queries import sql

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# An hour is rolled once it ended this long ago. The late-row trigger marks rows older
# than 2 minutes, so a writer transaction shorter than 3 minutes either is visible to the
# roll or marks its hour dirty (see sql/functions/late_rows.sql).
ROLL_DELAY = timedelta(minutes=5)
LOCK_KEY = 0x56494732  # "VIG2"


def _floor_day(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


async def _roll_hours(conn: psycopg.AsyncConnection, start: datetime, end: datetime,
                      monitor_ids: list[int] | None = None) -> None:
    """Rebuild the hours [start, end) of these monitors (None: every monitor) from raw rows."""
    params = {"from_ts": start, "to_ts": end, "ids": monitor_ids}
    await conn.execute(sql("rollup_clear_hours"), params)
    await conn.execute(sql("rollup_hours"), params)


async def _roll_days(conn: psycopg.AsyncConnection, start: datetime, end: datetime,
                     monitor_ids: list[int] | None = None) -> None:
    """Rebuild the days [start, end) of these monitors (None: every monitor) from their hours."""
    params = {"from_ts": start, "to_ts": end, "ids": monitor_ids}
    await conn.execute(sql("rollup_clear_days"), params)
    await conn.execute(sql("rollup_days"), params)


async def _watermarks(conn: psycopg.AsyncConnection) -> tuple[datetime | None, datetime | None, datetime]:
    cur = await conn.execute(sql("rollup_watermarks"), {"roll_delay_s": ROLL_DELAY.total_seconds()})
    hourly, daily, first_day, due_until = await cur.fetchone()
    if hourly is None and first_day is not None:
        hourly = daily = first_day
    return hourly, daily, due_until


async def hourly_watermark(conn: psycopg.AsyncConnection) -> datetime | None:
    """How far the hourly rollups reach (None before any result was stored)."""
    return (await _watermarks(conn))[0]


async def _set(conn: psycopg.AsyncConnection, width: str, until: datetime) -> None:
    await conn.execute(sql("rollup_set_watermark"), {"width": width, "until": until})


async def reroll_dirty(conn: psycopg.AsyncConnection) -> int:
    """Re-roll the (monitor, hour) pairs that received late rows, and those monitors' days;
    returns the pairs re-rolled."""
    async with conn.transaction():
        await conn.execute(sql("rollup_lock"), {"key": LOCK_KEY})
        hourly, daily, _ = await _watermarks(conn)
        if hourly is None:
            return 0
        cur = await conn.execute(sql("rollup_take_dirty"), {"until": hourly})
        marks = await cur.fetchall()
        by_hour: dict[datetime, list[int]] = defaultdict(list)
        by_day: dict[datetime, set[int]] = defaultdict(set)
        stale = 0
        for monitor_id, hour, past_horizon in marks:
            if past_horizon:
                stale += 1
                continue
            by_hour[hour].append(monitor_id)
            by_day[_floor_day(hour)].add(monitor_id)
        for hour, ids in sorted(by_hour.items()):
            await _roll_hours(conn, hour, hour + HOUR, sorted(ids))
        for day, ids in sorted(by_day.items()):
            if daily is not None and day + DAY <= daily:
                await _roll_days(conn, day, day + DAY, sorted(ids))
    if stale:
        log.warning("kept the rollups of %d (monitor, hour) pair(s) whose late rows arrived just "
                    "before retention dropped their raw rows; those late rows are not counted", stale)
    pairs = len(marks) - stale
    if pairs:
        log.info("re-rolled %d (monitor, hour) pair(s) with late rows in %d hour(s)", pairs, len(by_hour))
    return pairs


async def roll_next(conn: psycopg.AsyncConnection) -> int:
    """Roll the next due hours (at most to the end of the watermark's day); returns hours."""
    async with conn.transaction():
        await conn.execute(sql("rollup_lock"), {"key": LOCK_KEY})
        hourly, daily, due_until = await _watermarks(conn)
        if hourly is None or hourly >= due_until:
            return 0
        end = min(due_until, _floor_day(hourly) + DAY)
        daily = daily if daily is not None else _floor_day(hourly)
        await conn.execute(sql("rollup_clear_dirty_range"), {"from_ts": hourly, "to_ts": end})
        await _roll_hours(conn, hourly, end)
        await _set(conn, "1 hour", end)
        complete = _floor_day(end)
        if daily < complete:
            await _roll_days(conn, daily, complete)
        await _set(conn, "1 day", max(daily, complete))
    return int((end - hourly) / HOUR)


async def roll(pool: AsyncConnectionPool) -> int:
    """Everything due: dirty hours, then new hours until caught up. Returns hours rolled."""
    total = 0
    async with pool.connection() as conn:
        total += await reroll_dirty(conn)
        while True:
            n = await roll_next(conn)
            if n == 0:
                break
            total += n
    return total
