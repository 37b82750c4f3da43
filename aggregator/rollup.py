"""Materialise rollup_1h and rollup_1d from check_results, incrementally.

State: rollup_state holds how far each width is rolled (a watermark); rollup_dirty lists
hours that got rows after they may have been rolled (marked by a trigger, see
sql/0003_rollups.sql). One run:

1. re-rolls dirty hours below the hourly watermark (and the days holding them);
2. rolls new hours, a day's worth per transaction, up to the last hour that ended
   ROLL_DELAY ago; each transaction is one set-based statement for all monitors and
   regions (vigil_raw_stats), then the days that became complete, merged from hours.

Every transaction takes the same advisory lock first, so two aggregators run one after
the other and the second finds nothing to do; a roll replaces its buckets (delete then
insert), so re-running it changes nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import psycopg
from psycopg_pool import AsyncConnectionPool

from vigil.queries import sql

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# An hour is rolled once it ended this long ago. The late-row trigger marks rows older
# than 2 minutes, so a writer transaction shorter than 3 minutes either is visible to the
# roll or marks its hour dirty (see sql/0003_rollups.sql).
ROLL_DELAY = timedelta(minutes=5)
LOCK_KEY = 0x56494732  # "VIG2"


def _floor_day(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def runs(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted hour starts -> [from, to) ranges of consecutive hours within one day."""
    ranges: list[tuple[datetime, datetime]] = []
    for h in sorted(set(hours)):
        if ranges and ranges[-1][1] == h and _floor_day(h) == _floor_day(ranges[-1][0]):
            ranges[-1] = (ranges[-1][0], h + HOUR)
        else:
            ranges.append((h, h + HOUR))
    return ranges


async def _roll_hours(conn: psycopg.AsyncConnection, start: datetime, end: datetime) -> None:
    await conn.execute(sql("rollup_clear_hours"), {"from_ts": start, "to_ts": end})
    await conn.execute(sql("rollup_hours"), {"from_ts": start, "to_ts": end})


async def _roll_days(conn: psycopg.AsyncConnection, start: datetime, end: datetime) -> None:
    await conn.execute(sql("rollup_clear_days"), {"from_ts": start, "to_ts": end})
    await conn.execute(sql("rollup_days"), {"from_ts": start, "to_ts": end})


async def _watermarks(conn: psycopg.AsyncConnection) -> tuple[datetime | None, datetime | None, datetime]:
    cur = await conn.execute(sql("rollup_watermarks"), {"roll_delay_s": ROLL_DELAY.total_seconds()})
    hourly, daily, first_day, due_until = await cur.fetchone()
    if hourly is None and first_day is not None:
        hourly = daily = first_day
    return hourly, daily, due_until


async def _set(conn: psycopg.AsyncConnection, width: str, until: datetime) -> None:
    await conn.execute(sql("rollup_set_watermark"), {"width": width, "until": until})


async def reroll_dirty(conn: psycopg.AsyncConnection) -> int:
    """Re-roll hours that received late rows, and their days; returns hours re-rolled."""
    async with conn.transaction():
        await conn.execute(sql("rollup_lock"), {"key": LOCK_KEY})
        hourly, daily, _ = await _watermarks(conn)
        if hourly is None:
            return 0
        cur = await conn.execute(sql("rollup_take_dirty"), {"until": hourly})
        dirty = [r[0] for r in await cur.fetchall()]
        for start, end in runs(dirty):
            await _roll_hours(conn, start, end)
        for day in sorted({_floor_day(h) for h in dirty}):
            if daily is not None and day + DAY <= daily:
                await _roll_days(conn, day, day + DAY)
    if dirty:
        log.info("re-rolled %d hour(s) with late rows", len(dirty))
    return len(dirty)


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
