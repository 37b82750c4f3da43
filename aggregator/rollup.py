"""Materialise rollup_1h, rollup_1d, rollup_7d and rollup_28d from check_results, incrementally.

State: rollup_state holds how far each width is rolled (a watermark); rollup_dirty lists the
(monitor, hour) pairs that got rows after they may have been rolled (marked by a trigger, see
sql/functions/late_rows.sql). One run:

1. re-rolls each dirty monitor's hour below the hourly watermark, and that monitor's day;
   other monitors of the hour are left alone. A mark whose hour's raw rows retention has
   dropped since is discarded: rebuilding from what is left would erase the hour;
2. rolls new hours, a day's worth per transaction, up to the last hour that ended
   ROLL_DELAY ago; each transaction is one set-based statement for all monitors and
   regions (vigil_raw_stats), then the days that became complete, merged from hours, and
   the weeks and four-week blocks that became complete, merged from days and weeks (LEVELS).
   A re-rolled day re-rolls its complete week and four-week block too.

Every transaction takes the same advisory lock first, so two aggregators run one after
the other and the second finds nothing to do; a roll replaces its buckets (delete then
insert), so re-running it changes nothing."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

import psycopg
from psycopg_pool import AsyncConnectionPool

from aggregator.window_plan import DAY, FOUR_WEEKS, HOUR, WEEK, floor_to
from vigil.queries import sql

log = logging.getLogger(__name__)

# The rollups merged from finer ones: (width, its interval literal, table, source). Blocks are
# time_bucket's: days from midnight UTC, weeks and four-week blocks from a Monday, so each
# block of a level is whole blocks of the one before.
LEVELS = ((DAY, "1 day", "rollup_1d", "rollup_1h"), (WEEK, "7 days", "rollup_7d", "rollup_1d"),
          (FOUR_WEEKS, "28 days", "rollup_28d", "rollup_7d"))
# An hour is rolled once it ended this long ago. The late-row trigger marks rows older
# than 2 minutes, so a writer transaction shorter than 3 minutes either is visible to the
# roll or marks its hour dirty (see sql/functions/late_rows.sql).
ROLL_DELAY = timedelta(minutes=5)
LOCK_KEY = 0x56494732  # "VIG2"


async def _roll_hours(conn: psycopg.AsyncConnection, start: datetime, end: datetime,
                      monitor_ids: list[int] | None = None) -> None:
    """Rebuild the hours [start, end) of these monitors (None: every monitor) from raw rows."""
    params = {"from_ts": start, "to_ts": end, "ids": monitor_ids}
    await conn.execute(sql("rollup_clear_hours"), params)
    await conn.execute(sql("rollup_hours"), params)


async def _roll_level(conn: psycopg.AsyncConnection, width: timedelta, start: datetime, end: datetime,
                      monitor_ids: list[int] | None = None) -> None:
    """Rebuild the blocks of ``width`` in [start, end) of these monitors (None: every monitor)
    from the next finer rollups."""
    _, name, table, source = next(level for level in LEVELS if level[0] == width)
    params = {"from_ts": start, "to_ts": end, "ids": monitor_ids}
    await conn.execute(sql("rollup_clear_level").replace("{target}", table), params)
    await conn.execute(sql("rollup_level").replace("{target}", table).replace("{source}", source)
                       .replace("{width}", name), params)


async def _roll_days(conn: psycopg.AsyncConnection, start: datetime, end: datetime,
                     monitor_ids: list[int] | None = None) -> None:
    """Rebuild the days [start, end) of these monitors (None: every monitor) from their hours."""
    await _roll_level(conn, DAY, start, end, monitor_ids)


async def _level_watermarks(conn: psycopg.AsyncConnection) -> dict[timedelta, datetime]:
    cur = await conn.execute(sql("rollup_level_watermarks"))
    return dict(await cur.fetchall())


async def roll_blocks(conn: psycopg.AsyncConnection, daily: datetime) -> None:
    """Roll the weeks and four-week blocks that the days rolled until ``daily`` completed.
    A level without a watermark yet starts at the block holding its source's first row."""
    done = await _level_watermarks(conn)
    source_until = daily
    for width, name, _, source in LEVELS[1:]:
        until = done.get(width)
        if until is None:
            first = (await (await conn.execute(sql("rollup_first_bucket").replace("{source}", source))).fetchone())[0]
            if first is None:
                return
            until = floor_to(first, width)
        complete = floor_to(source_until, width)
        if until < complete:
            await _roll_level(conn, width, until, complete)
            until = complete
        await _set(conn, name, until)
        source_until = until


async def _reroll_blocks(conn: psycopg.AsyncConnection, days: dict[datetime, set[int]]) -> None:
    """After re-rolling these days (day -> monitors): their complete weeks, then four-week blocks."""
    done = await _level_watermarks(conn)
    for width, *_ in LEVELS[1:]:
        blocks: dict[datetime, set[int]] = defaultdict(set)
        for day, ids in days.items():
            blocks[floor_to(day, width)] |= ids
        until = done.get(width)
        for block, ids in sorted(blocks.items()):
            if until is not None and block + width <= until:
                await _roll_level(conn, width, block, block + width, sorted(ids))


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
            by_day[floor_to(hour, DAY)].add(monitor_id)
        for hour, ids in sorted(by_hour.items()):
            await _roll_hours(conn, hour, hour + HOUR, sorted(ids))
        rerolled = {day: ids for day, ids in sorted(by_day.items()) if daily is not None and day + DAY <= daily}
        for day, ids in rerolled.items():
            await _roll_days(conn, day, day + DAY, sorted(ids))
        await _reroll_blocks(conn, rerolled)
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
        end = min(due_until, floor_to(hourly, DAY) + DAY)
        daily = daily if daily is not None else floor_to(hourly, DAY)
        await conn.execute(sql("rollup_clear_dirty_range"), {"from_ts": hourly, "to_ts": end})
        await _roll_hours(conn, hourly, end)
        await _set(conn, "1 hour", end)
        complete = floor_to(end, DAY)
        if daily < complete:
            await _roll_days(conn, daily, complete)
        await _set(conn, "1 day", max(daily, complete))
        await roll_blocks(conn, max(daily, complete))
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
