"""The scheduler: turns monitors into arq jobs, one per (region, slot, batch).

Every tick it enqueues every slot second between the region's watermark and now. Job
ids are derived from (region, slot, batch), and arq refuses an id it already holds, so
two schedulers running at once enqueue each batch once, and a restarted scheduler resumes
from the watermark without gaps or doubles (up to scheduler_max_catchup_seconds).

Every ``missed_sweep_seconds`` it also runs the missed-slot sweeper (ingest/missed.py),
which stores a slot no worker checked as missed."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import logging
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from psycopg_pool import AsyncConnectionPool

from ingest.checks.base import MonitorSpec
from ingest.missed import sweep_missed
from ingest.slots import SlotTable, batches, job_id
from vigil import metrics, tracing
from vigil.constants import SCHEDULER_WATERMARK_KEY, check_queue, slot_job_lifetime
from vigil.db import open_pool
from vigil.queries import sql
from vigil.settings import Settings

log = logging.getLogger(__name__)

# Longest time the scheduler goes without reading every monitor, changed or not: a
# backstop for edits made in SQL without touching updated_at.
FULL_REFRESH_SECONDS = 300.0
# Rows per fetch when a full refresh first only compares the monitors with the last ones
# read: a few hundred kB at a time instead of every monitor at once.
DIGEST_FETCH_ROWS = 5000


class Scheduler:
    def __init__(self, settings: Settings, pool: AsyncConnectionPool, redis: ArqRedis) -> None:
        self.settings = settings
        self.pool = pool
        self.redis = redis
        # region name -> (region id, slot table of job payload tuples)
        self.tables: dict[str, tuple[int, SlotTable[tuple]]] = {}
        self.enqueued_jobs = 0
        # (region, monitor) -> the API request that recently created or changed the monitor:
        # handed to the worker with its next check (once), so that check's line names it.
        self.requests: dict[tuple[str, int], str] = {}
        self._handed: dict[tuple[str, int], str] = {}
        self._fingerprint: tuple | None = None
        self._full_refresh = -1e9
        self._digest: bytes | None = None  # of the rows the slot tables were built from

    def _note_requests(self, recent: dict[tuple[str, int], str]) -> None:
        self.requests = {k: rid for k, rid in recent.items() if self._handed.get(k) != rid}
        self._handed = {k: rid for k, rid in self._handed.items() if recent.get(k) == rid}

    def _requests_of(self, region: str, batch) -> dict[int, str] | None:
        if not self.requests:
            return None
        found = {spec[0]: rid for spec in batch if (rid := self.requests.pop((region, spec[0]), None))}
        self._handed.update(((region, mid), rid) for mid, rid in found.items())
        return found or None

    async def refresh(self) -> None:
        with tracing.span("scheduler.refresh"):
            await self._refresh()

    def _schedule_params(self) -> dict[str, int]:
        return {"recent_s": self.settings.scheduler_max_catchup_seconds + 60}

    async def _refresh(self) -> None:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(sql("schedule_monitors"), self._schedule_params())).fetchall()
        # In a thread: for 100,000 monitors this takes about a second, which would otherwise
        # hold up the tick loop and every slot due meanwhile.
        tables, recent, self._digest = await asyncio.to_thread(_slot_tables, rows)
        del rows  # the payloads keep what they need of them
        self.tables = tables
        self._note_requests(recent)
        _return_freed_memory()

    async def rows_changed(self) -> bool:
        """Whether the monitors read now differ from those the slot tables were built from,
        read a few thousand rows at a time: rebuilding the tables of 100,000 unchanged
        monitors costs a second of CPU and, while old and new tables coexist, some 20 MB of
        resident memory the allocator keeps afterwards."""
        digest = hashlib.blake2b(digest_size=16)
        async with self.pool.connection() as conn, conn.transaction():
            cursor = conn.cursor("schedule_monitors")
            await cursor.execute(sql("schedule_monitors"), self._schedule_params())
            while chunk := await cursor.fetchmany(DIGEST_FETCH_ROWS):
                _digest_rows(digest, chunk)
            await cursor.close()
        return digest.digest() != self._digest

    async def tick(self, now: int | None = None) -> int:
        """Enqueue every due slot up to ``now`` + lead for every region; returns jobs enqueued.
        Slots ahead of now are deferred to their second, so a worker starts them on time
        instead of up to a tick late."""
        started = time.perf_counter()
        now = int(time.time()) if now is None else now
        upto = now + self.settings.scheduler_lead_seconds
        lifetime = slot_job_lifetime(self.settings.scheduler_max_catchup_seconds)
        enqueued = 0
        for region, (region_id, table) in self.tables.items():
            key = SCHEDULER_WATERMARK_KEY + region
            mark = await self.redis.get(key)
            start = now if mark is None else int(mark) + 1
            start = max(start, now - self.settings.scheduler_max_catchup_seconds)
            jobs = slots = 0
            for t in range(start, upto + 1):
                defer = datetime.fromtimestamp(t, UTC) if t > now else None
                # arq counts a job's expiry from its enqueueing; the slot's lifetime counts from t.
                expires = timedelta(seconds=lifetime + max(0, t - now))
                for n, batch in enumerate(batches(table.due(t), self.settings.batch_size)):
                    batch = list(batch)
                    if await self._enqueue(region, region_id, t, n, batch, defer, expires):
                        jobs += 1
                        slots += len(batch)
            if start <= upto:
                await self.redis.set(key, upto)
            if jobs:
                metrics.JOBS_ENQUEUED.labels(region).inc(jobs)
                metrics.SLOTS_ENQUEUED.labels(region).inc(slots)
            enqueued += jobs
        self.enqueued_jobs += enqueued
        metrics.SCHEDULER_TICK.observe(time.perf_counter() - started)
        return enqueued

    async def _enqueue(self, region: str, region_id: int, slot: int, n: int, batch: list,
                       defer: datetime | None, expires: timedelta) -> bool:
        jid = job_id(region, slot, n)
        with tracing.span("scheduler.enqueue", job_id=jid, region=region, slot=slot, checks=len(batch)):
            # Only what is set travels: a job without them is what it was before tracing.
            extra = {k: v for k, v in (("traceparent", tracing.traceparent()),
                                       ("requests", self._requests_of(region, batch))) if v}
            job = await self.redis.enqueue_job(
                "run_batch", slot, region_id, batch, _job_id=jid, _queue_name=check_queue(region),
                _defer_until=defer, _expires=expires, **extra)
        return job is not None

    async def sweep(self) -> int:
        s = self.settings
        with tracing.span("scheduler.sweep"):
            missed = await sweep_missed(self.pool, s.missed_grace_seconds, s.scheduler_max_catchup_seconds)
        metrics.SLOTS_MISSED.inc(missed)
        return missed

    async def run(self, stop: asyncio.Event) -> None:
        """Tick on Redis alone, and refresh monitors and sweep missed slots in a task of
        their own: while the database is down, the last known monitors keep being scheduled."""
        database = asyncio.create_task(self._database_loop(stop), name="scheduler-database")
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception as exc:
                    log.warning("scheduler tick failed (%s: %s); retrying", type(exc).__name__, exc)
                await _wait(stop, self.settings.scheduler_tick_seconds)
        finally:
            database.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await database

    async def refresh_if_changed(self) -> bool:
        """Refresh when the monitors may have changed since the last refresh. Reading and
        indexing 100,000 monitors costs about a second of CPU, too much to repeat every few
        seconds when none changed; every FULL_REFRESH_SECONDS every monitor is read again
        anyway, and the tables rebuilt only if the rows differ from the last ones."""
        async with self.pool.connection() as conn:
            fingerprint = await (await conn.execute(sql("schedule_fingerprint"))).fetchone()
        if fingerprint == self._fingerprint:
            if time.monotonic() - self._full_refresh < FULL_REFRESH_SECONDS:
                return False
            if not await self.rows_changed():
                self._full_refresh = time.monotonic()
                return False
        await self.refresh()
        self._fingerprint, self._full_refresh = fingerprint, time.monotonic()
        return True

    async def _database_loop(self, stop: asyncio.Event) -> None:
        last_refresh = last_sweep = -1e9
        while not stop.is_set():
            if time.monotonic() - last_refresh >= self.settings.scheduler_refresh_seconds:
                try:
                    await self.refresh_if_changed()
                    last_refresh = time.monotonic()
                except Exception as exc:
                    log.warning("monitor refresh failed (%s: %s); keeping the last known monitors",
                                type(exc).__name__, exc)
            if time.monotonic() - last_sweep >= self.settings.missed_sweep_seconds:
                try:
                    await self.sweep()
                    last_sweep = time.monotonic()
                except Exception as exc:
                    log.warning("missed-slot sweep failed (%s: %s); retrying", type(exc).__name__, exc)
            await _wait(stop, min(self.settings.scheduler_refresh_seconds, self.settings.missed_sweep_seconds))


def _libc_trim():
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    return None


_MALLOC_TRIM = _libc_trim()


def _return_freed_memory() -> None:
    """Hand the memory a rebuild freed (the rows read and the previous tables, some 25 MB for
    100,000 monitors) back to the system: glibc keeps freed heap for reuse otherwise, and
    the process stays at its high-water mark between rebuilds. A few milliseconds."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _digest_rows(digest, rows: list[tuple]) -> None:
    for row in rows:
        digest.update(repr(row).encode())


def _slot_tables(rows: list[tuple]) -> tuple[dict[str, tuple[int, SlotTable[tuple]]], dict[tuple[str, int], str], bytes]:
    """Per region: its id and the slot table of its monitors' job payloads; the API request
    that recently created or changed a monitor, per (region, monitor); and the rows' digest."""
    digest = hashlib.blake2b(digest_size=16)
    _digest_rows(digest, rows)
    per_region: dict[str, list] = defaultdict(list)
    region_ids: dict[str, int] = {}
    recent: dict[tuple[str, int], str] = {}
    for mid, kind, target, interval_s, timeout_ms, expectations, region, region_id, request_id in rows:
        if request_id:
            recent[region, mid] = request_id
        if isinstance(expectations, str):
            expectations = json.loads(expectations)
        attempts = int(expectations.get("attempts", 1)) if expectations else 1
        spec = MonitorSpec(id=mid, kind=kind, target=target, timeout_ms=timeout_ms,
                           expectations=expectations or {}, attempts=attempts, interval_s=interval_s)
        per_region[region].append((mid, interval_s, spec.payload()))
        region_ids[region] = region_id
    return ({r: (region_ids[r], SlotTable.build(entries)) for r, entries in per_region.items()}, recent,
            digest.digest())


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_scheduler(settings: Settings, stop: asyncio.Event) -> None:
    exporter = metrics.serve(settings, "scheduler")
    pool = await open_pool(settings.database_url, max_size=2)
    redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    try:
        log.info("scheduler started")
        await Scheduler(settings, pool, redis).run(stop)
    finally:
        if exporter:
            exporter.close()
        await redis.aclose()
        await pool.close()
