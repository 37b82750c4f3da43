"""Retention: raw results for raw_retention_days, hourly rollups for
hourly_retention_days, daily rollups for daily_retention_days (0 = forever).

Raw and hourly data are hypertables, so whole chunks are dropped (drop_chunks), never
deleted row by row. Raw rows are never dropped before they are rolled up: the cut-off is
at most the hourly watermark."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import psycopg

from vigil.queries import sql
from vigil.settings import Settings

log = logging.getLogger(__name__)


async def apply_retention(conn: psycopg.AsyncConnection, settings: Settings, now: datetime) -> int:
    """Drop what is past retention; returns chunks dropped."""
    cur = await conn.execute("SELECT rolled_until FROM rollup_state WHERE width = '1 hour'")
    row = await cur.fetchone()
    if row is None:
        return 0
    raw_cut = min(now - timedelta(days=settings.raw_retention_days), row[0])
    dropped = (await (await conn.execute(sql("drop_raw_chunks"), {"older_than": raw_cut})).fetchone())[0]
    hourly_cut = now - timedelta(days=settings.hourly_retention_days)
    dropped += (await (await conn.execute(sql("drop_hourly_chunks"), {"older_than": hourly_cut})).fetchone())[0]
    if settings.daily_retention_days:
        await conn.execute(sql("delete_old_daily"),
                           {"older_than": now - timedelta(days=settings.daily_retention_days)})
    if dropped:
        log.info("retention dropped %d chunk(s)", dropped)
    return dropped
