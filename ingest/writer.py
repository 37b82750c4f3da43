"""Batched binary COPY of check results into the hypertable.

Rows from all of a worker's running jobs are gathered and flushed together, by size or
by age. ``write()`` returns once its rows are committed, so a job is acknowledged to the
queue only after its results are durable (at-least-once delivery). A job that is run
twice finds its rows already stored: the unique key (monitor, region, slot) turns the
second write into a no-op (exactly-once storage). A real result arriving after the
missed-slot sweeper marked its slot missed replaces the marker.

While the database is unreachable, rows wait in memory and the flush is retried with
backoff. A job waits ``ack_wait_seconds`` for its rows; if the database is still down
then, ``write()`` returns with the rows held in the buffer (the worker keeps checking;
the rows are written on recovery, or become missed slots if the process dies first).
Past ``max_buffer_rows`` a write is refused: logged, counted in ``dropped_rows``, and
``BufferFull`` fails the job, which the queue retries with backoff and dead-letters after
its last try.

A row older than the raw horizon (its hour's raw rows were dropped by retention; only the
rollup is left) is refused by the database (sql/functions/late_rows.sql) and counted
there per monitor and hour; the writer logs it and counts it in ``refused_rows``."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import psycopg
from opentelemetry.trace import SpanContext
from psycopg import errors
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ingest.wake import announce_down
from vigil import metrics, tracing
from vigil.constants import ErrorKind
from vigil.results import COLUMNS, PG_TYPES, ResultRow, copy_statement

log = logging.getLogger(__name__)

class BufferFull(Exception):
    """The writer holds max_buffer_rows unwritten rows; the caller should retry later."""


async def copy_rows(conn: psycopg.AsyncConnection, rows: list[ResultRow], table: str = "check_results") -> int:
    """COPY the rows; returns how many the table took (check_results refuses rows older than
    the raw horizon)."""
    async with conn.cursor() as cur:
        async with cur.copy(copy_statement(table)) as copy:
            copy.set_types(list(PG_TYPES))
            for row in rows:
                await copy.write_row(row)
        return cur.rowcount


async def store_rows(conn: psycopg.AsyncConnection, rows: list[ResultRow]) -> int:
    """Plain COPY when no row exists yet (the common case, at full COPY speed); when a
    retried job repeats rows, COPY into a staging table and insert what is new. Returns the
    rows refused as older than the raw horizon. Monitors with a down result are announced to
    the evaluator in the same transaction (ingest/wake.py)."""
    try:
        async with conn.transaction():
            refused = len(rows) - await copy_rows(conn, rows)
            await announce_down(conn, rows)
            return refused
    except errors.UniqueViolation:
        async with conn.transaction():
            await conn.execute("CREATE TEMP TABLE IF NOT EXISTS results_stage "
                               "(LIKE check_results) ON COMMIT DELETE ROWS")
            await copy_rows(conn, rows, "results_stage")
            refused = (await (await conn.execute(_PAST_HORIZON)).fetchone())[0]
            await conn.execute(_INSERT_NEW)
            await announce_down(conn, rows)
            return refused


_PAST_HORIZON = "SELECT count(*) FROM results_stage WHERE time < vigil_raw_kept_from()"


# Rows already stored are left alone, except a missed-slot marker, which a real result
# (one with attempts > 0) replaces.
_INSERT_NEW = (
    f"INSERT INTO check_results ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM results_stage "
    "ON CONFLICT (monitor_id, region_id, time) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c not in ("time", "monitor_id", "region_id"))
    + f" WHERE check_results.error_kind = {int(ErrorKind.missed)} AND EXCLUDED.attempts > 0")


@dataclass
class _Pending:
    rows: list[ResultRow]
    trace: SpanContext | None = None  # the recorded job span that wrote them
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class ResultWriter:
    def __init__(self, pool: AsyncConnectionPool, flush_rows: int = 5000, flush_seconds: float = 0.5,
                 max_buffer_rows: int = 200_000, ack_wait_seconds: float = 5.0) -> None:
        self.pool = pool
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.max_buffer_rows = max_buffer_rows
        self.ack_wait_seconds = ack_wait_seconds
        self.database_down = False
        self.held_rows = 0  # rows of acknowledged jobs that waited in the buffer for the database
        self._pending: list[_Pending] = []
        self._buffered = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.written_rows = 0
        self.flushes = 0
        self.dropped_rows = 0
        self.refused_rows = 0  # older than the raw horizon: refused by the database
        self.failed_flushes = 0

    @property
    def buffered_rows(self) -> int:
        return self._buffered

    def start(self) -> None:
        metrics.WRITER_BUFFERED.set_function(lambda: self._buffered)
        self._task = asyncio.create_task(self._run(), name="result-writer")

    async def close(self, patience_seconds: float = 10.0) -> None:
        """Flush what is buffered, retrying for up to ``patience_seconds``, then stop. Rows
        still unwritten then are logged as lost (the sweeper will store their slots as missed)."""
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        tries = max(1, int(patience_seconds / 0.5))
        for i in range(tries):
            if not self._pending:
                break
            if not await self._flush_once() and i + 1 < tries:
                await asyncio.sleep(0.5)
        if self._pending:
            lost = sum(len(p.rows) for p in self._pending)
            self.dropped_rows += lost
            metrics.WRITER_DROPPED.inc(lost)
            log.error("database still unavailable at shutdown: %d buffered rows lost "
                      "(their slots will be stored as missed)", lost)

    async def write(self, rows: list[ResultRow]) -> bool:
        """Returns True once the rows are committed, False if they are held in the buffer
        because the database has been down for ack_wait_seconds."""
        if not rows:
            return True
        if self._buffered + len(rows) > self.max_buffer_rows:
            self.dropped_rows += len(rows)
            metrics.WRITER_DROPPED.inc(len(rows))
            log.error("writer buffer full (%d rows); refusing %d rows, job will be retried",
                      self._buffered, len(rows))
            raise BufferFull(f"{self._buffered} rows waiting for the database")
        span = tracing.current_span()
        item = _Pending(rows, span.get_span_context() if span.is_recording() else None)
        self._pending.append(item)
        self._buffered += len(rows)
        if self._buffered >= self.flush_rows:
            self._wake.set()
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(item.done), self.ack_wait_seconds)
                return True
            except TimeoutError:
                if self.database_down:
                    self.held_rows += len(rows)
                    metrics.WRITER_HELD.inc(len(rows))
                    item.done.add_done_callback(_consume)
                    log.warning("database down: acknowledging a job with %d rows held in the buffer",
                                len(rows))
                    return False

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
        """One flush of every pending write; in the trace of the first recorded job among
        them (the other jobs' spans are linked)."""
        traced = [item.trace for item in self._pending if item.trace is not None]
        if not traced:
            return await self._flush_pending()
        with tracing.span("writer.flush", parent=traced[0], links=traced[1:], jobs=len(self._pending),
                          rows=sum(len(item.rows) for item in self._pending)):
            return await self._flush_pending()

    async def _flush_pending(self) -> bool:
        batch, self._pending = self._pending, []
        rows = [row for item in batch for row in item.rows]
        started = time.perf_counter()
        try:
            async with self.pool.connection() as conn:
                refused = await store_rows(conn, rows)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            self.failed_flushes += 1
            metrics.WRITER_FLUSH_FAILURES.inc()
            self.database_down = True
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
        self.written_rows += len(rows) - refused
        self.flushes += 1
        metrics.WRITER_WRITTEN.inc(len(rows) - refused)
        metrics.WRITER_FLUSH.observe(time.perf_counter() - started)
        if refused:
            self.refused_rows += refused
            metrics.WRITER_REFUSED.inc(refused)
            log.warning("refused %d row(s) older than the raw retention horizon: their hours live on "
                        "in the rollups only (counted per monitor and hour in refused_late_rows)", refused)
        self.database_down = False
        log.debug("wrote %d rows in %.1f ms", len(rows), (time.perf_counter() - started) * 1000)
        for item in batch:
            if not item.done.done():
                item.done.set_result(None)
        return True


def _consume(fut: asyncio.Future) -> None:
    """Nobody awaits a held write any more: read its outcome so it is not reported as unread."""
    if not fut.cancelled() and fut.exception() is not None:
        log.error("held rows could not be written: %s", fut.exception())
