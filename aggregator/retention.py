"""Retention: raw results for raw_retention_days, hourly rollups for
hourly_retention_days, daily rollups for daily_retention_days (0 = forever).

Raw and hourly data are hypertables, so whole chunks are dropped (drop_chunks), never
deleted row by row. Raw rows are never dropped before they are rolled up, nor while an hour
of theirs waits for a re-roll: the cut-off is at most the hourly watermark and the oldest
dirty mark.

Each drop records how far back its store is still whole in retention_horizons. Writers and
readers go by it: a raw row older than the raw horizon is refused (its hour's other rows
are gone, so the rollup is all that can hold it), and answers say which part of a window
their figures cover."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import psycopg

from aggregator.rollup import LOCK_KEY
from vigil.queries import sql
from vigil.settings import Settings

log = logging.getLogger(__name__)


async def _drop(conn: psycopg.AsyncConnection, hypertable: str, source: str, older_than: datetime) -> int:
    """drop_chunks on one hypertable, recording the end of the newest dropped chunk as the
    store's horizon; returns chunks dropped."""
    cur = await conn.execute(sql("chunks_end_before"), {"hypertable": hypertable, "older_than": older_than})
    kept_from = (await cur.fetchone())[0]
    if kept_from is None:
        return 0
    query = "drop_raw_chunks" if hypertable == "check_results" else "drop_hourly_chunks"
    dropped = (await (await conn.execute(sql(query), {"older_than": older_than})).fetchone())[0]
    await conn.execute(sql("advance_horizon"), {"source": source, "kept_from": kept_from, "width": "1 hour"})
    return dropped


async def apply_retention(conn: psycopg.AsyncConnection, settings: Settings, now: datetime) -> int:
    """Drop what is past retention; returns chunks dropped."""
    async with conn.transaction():
        # The aggregator's lock: no re-roll reads an hour's raw rows while they are dropped.
        await conn.execute(sql("rollup_lock"), {"key": LOCK_KEY})
        cur = await conn.execute(sql("retention_raw_cut"),
                                 {"older_than": now - timedelta(days=settings.raw_retention_days)})
        raw_cut = (await cur.fetchone())[0]
        if raw_cut is None:  # nothing rolled yet
            return 0
        dropped = await _drop(conn, "check_results", "raw", raw_cut)
        dropped += await _drop(conn, "rollup_1h", "1 hour", now - timedelta(days=settings.hourly_retention_days))
        if settings.daily_retention_days:
            daily_cut = now - timedelta(days=settings.daily_retention_days)
            await conn.execute(sql("delete_old_daily"), {"older_than": daily_cut})
            # Days starting before the cut are deleted: the first one kept starts at or after it.
            await conn.execute(sql("advance_horizon"), {"source": "1 day", "kept_from": daily_cut,
                                                        "width": "1 day"})
    if dropped:
        log.info("retention dropped %d chunk(s)", dropped)
    return dropped
