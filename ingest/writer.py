"""Batched binary COPY of check results into the hypertable.

Rows from all of a worker's running jobs are gathered and flushed together, by size or
by age. ``write()`` returns only once its rows are committed, so a job is acknowledged
to the queue only after its results are durable (at-least-once delivery). A job that is
run twice finds its rows already stored: the unique key (monitor, region, slot) turns the
second write into a no-op (exactly-once storage).

While the database is unreachable, rows wait in memory and the flush is retried; past
``max_buffer_rows`` the newest writes are refused (logged and counted in
``dropped_rows``), which fails their jobs so the queue retries them later."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import errors
from psycopg_pool import AsyncConnectionPool, PoolTimeout

log = logging.getLogger(__name__)

COLUMNS = ("time", "monitor_id", "latency_us", "connect_us", "ttfb_us", "lateness_ms",
           "region_id", "error_kind", "status_code", "attempts", "up")
TYPES = ("timestamptz", "int4", "int4", "int4", "int4", "int4",
         "int2", "int2", "int2", "int2", "bool")
ResultRow = tuple[datetime, int, int, int, int, int, int, int, int, int, bool]

_COPY = f"COPY {{table}} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"


class BufferFull(Exception):
    """The writer holds max_buffer_rows unwritten rows; the caller should retry later."""


async def copy_rows(conn: psycopg.AsyncConnection, rows: list[ResultRow], table: str = "check_results") -> None:
    async with conn.cursor() as cur, cur.copy(_COPY.format(table=table)) as copy:
        copy.set_types(list(TYPES))
        for row in rows:
            await copy.write_row(row)


async def store_rows(conn: psycopg.AsyncConnection, rows: list[ResultRow]) -> None:
    """Plain COPY when no row exists yet (the common case, at full COPY speed); when a
    retried job repeats rows, COPY into a staging table and insert what is new."""
    try:
        async with conn.transaction():
            await copy_rows(conn, rows)
    except errors.UniqueViolation:
        async with conn.transaction():
            await conn.execute("CREATE TEMP TABLE IF NOT EXISTS results_stage "
                               "(LIKE check_results) ON COMMIT DELETE ROWS")
            await copy_rows(conn, rows, "results_stage")
            await conn.execute("INSERT INTO check_results SELECT * FROM results_stage "
                               "ON CONFLICT DO NOTHING")


@dataclass
class _Pending:
    rows: list[ResultRow]
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class ResultWriter:
    def __init__(self, pool: AsyncConnectionPool, flush_rows: int = 5000, flush_seconds: float = 0.5,
                 max_buffer_rows: int = 200_000) -> None:
        self.pool = pool
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.max_buffer_rows = max_buffer_rows
        self._pending: list[_Pending] = []
        self._buffered = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.written_rows = 0
        self.dropped_rows = 0
        self.failed_flushes = 0

    @property
    def buffered_rows(self) -> int:
        return self._buffered

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="result-writer")

    async def close(self) -> None:
        """Flush what is buffered (bounded by the caller's patience), then stop."""
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._pending:
            await self._flush_once()

    async def write(self, rows: list[ResultRow]) -> None:
        if not rows:
            return
        if self._buffered + len(rows) > self.max_buffer_rows:
            self.dropped_rows += len(rows)
            log.error("writer buffer full (%d rows); refusing %d rows, job will be retried",
                      self._buffered, len(rows))
            raise BufferFull(f"{self._buffered} rows waiting for the database")
        item = _Pending(rows)
        self._pending.append(item)
        self._buffered += len(rows)
        if self._buffered >= self.flush_rows:
            self._wake.set()
        await item.done

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.flush_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            if not self._pending:
                continue
            if await self._flush_once():
                backoff = 0.2
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _flush_once(self) -> bool:
        batch, self._pending = self._pending, []
        rows = [row for item in batch for row in item.rows]
        started = time.perf_counter()
        try:
            async with self.pool.connection() as conn:
                await store_rows(conn, rows)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            self.failed_flushes += 1
            log.warning("database unavailable, holding %d rows for retry: %s", len(rows), exc)
            self._pending = batch + self._pending
            return False
        except Exception as exc:
            log.exception("writing %d rows failed", len(rows))
            self._buffered -= len(rows)
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(exc)
            return True
        self._buffered -= len(rows)
        self.written_rows += len(rows)
        log.debug("wrote %d rows in %.1f ms", len(rows), (time.perf_counter() - started) * 1000)
        for item in batch:
            if not item.done.done():
                item.done.set_result(None)
        return True
