"""Packing closed raw chunks: rebuild a chunk's unique index once no more rows are expected.

Results arrive in time order for all monitors at once, so every monitor's range of the
(monitor_id, region_id, time) index is appended to in the middle of the index and its pages
split about two-thirds full. Once a chunk's time range has ended, a REINDEX CONCURRENTLY
(writes continue meanwhile; late rows still land) packs it to B-tree's 90 % fill: about
10 bytes less a row, 110 -> 100 bytes with the heap (docs/operations.md "Storage layout").

REINDEX CONCURRENTLY cannot run inside a transaction, so it uses its own autocommit
connection, and a session advisory lock keeps two aggregators from packing at once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import psycopg

from vigil.queries import sql

log = logging.getLogger(__name__)

PACK_LOCK_ID = 0x56494733  # "VIG3"
# A chunk is packed this long after its range ended: results of its last slots (checks,
# retries, a writer that held rows through a database outage) have landed by then.
CLOSED_FOR = timedelta(hours=1)


async def pack_closed_chunks(dsn: str, now: datetime, limit: int = 2) -> list[str]:
    """Rebuild the indexes of up to ``limit`` closed, not yet packed raw chunks."""
    packed: list[str] = []
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        got = (await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (PACK_LOCK_ID,))).fetchone())[0]
        if not got:
            return packed
        try:
            await conn.execute(sql("forget_dropped_chunks"))
            cur = await conn.execute(sql("closed_raw_chunks_to_pack"),
                                     {"closed_before": now - CLOSED_FOR, "limit": limit})
            for chunk, indexes in await cur.fetchall():
                before = await _index_bytes(conn, chunk)
                for index in indexes:
                    await conn.execute(f"REINDEX INDEX CONCURRENTLY {index}")
                after = await _index_bytes(conn, chunk)
                await conn.execute(sql("record_packed_chunk"),
                                   {"chunk": chunk, "before": before, "after": after})
                log.info("packed %s: index %d -> %d bytes", chunk, before, after)
                packed.append(chunk)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (PACK_LOCK_ID,))
    return packed


async def _index_bytes(conn: psycopg.AsyncConnection, chunk: str) -> int:
    cur = await conn.execute("SELECT pg_indexes_size(%s::regclass)", (chunk,))
    return (await cur.fetchone())[0]
