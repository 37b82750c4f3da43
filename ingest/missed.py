"""The missed-slot sweeper: a slot that no worker checked becomes a row that says so.

A slot can go unchecked because its region has no worker, because Redis lost the queue,
because its job expired or was dead-lettered, or because the scheduler was down longer
than its catch-up. Once a slot's check window (timeout × attempts + grace) has closed
with no row, the sweeper inserts one with error_kind = missed and up = false, in one
set-based statement for every monitor and region. It inserts with ON CONFLICT DO NOTHING,
so a real result is never overwritten; a real result arriving later replaces the marker
(see ingest/writer.py). The sweeper's progress is a watermark row in the database,
locked while sweeping, so several schedulers may run it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from vigil.queries import sql

log = logging.getLogger(__name__)


async def sweep_missed(pool: AsyncConnectionPool, grace_s: int, first_lookback_s: int,
                       now: datetime | None = None) -> int:
    """Mark every unchecked slot whose window closed since the last sweep; returns rows added."""
    now = now or datetime.now(UTC)
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute(sql("lock_sweep_watermark"),
                                 {"start": now - timedelta(seconds=first_lookback_s)})
        (swept_to,) = await cur.fetchone()
        if swept_to >= now:
            return 0
        cur = await conn.execute(sql("sweep_missed_slots"),
                                 {"swept_to": swept_to, "now": now, "grace_s": grace_s})
        added = cur.rowcount
        await conn.execute(sql("advance_sweep_watermark"), {"now": now})
    if added:
        log.warning("marked %d unchecked slot(s) as missed", added)
    return added
