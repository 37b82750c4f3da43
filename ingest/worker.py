"""The check worker: an arq worker serving one region's queue. Each job is one batch of
due checks for one slot; the worker runs them concurrently and writes their results
through the shared ResultWriter before the job is acknowledged.

Job-level failures (database down past the writer's buffer, a batch over its time limit,
a worker killed mid-batch) are retried by the queue with exponential backoff; after
``worker_job_tries`` tries the batch is dead-lettered (ingest/deadletters.py). SIGTERM
stops taking jobs, lets running batches finish for ``worker_shutdown_wait_seconds`` and
puts the rest back on the queue (arq retries cancelled jobs)."""

from __future__ import annotations

import asyncio
import gc
import logging
import pickle
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from arq.connections import RedisSettings
from arq.worker import Retry, Worker
from psycopg_pool import PoolTimeout
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ingest import deadletters, slots
from ingest.certificates import certificate_of, store_certificates
from ingest.checks import KINDS
from ingest.checks.base import CheckContext, MonitorSpec, SpecTuple
from ingest.context import make_check_context
from ingest.health import WorkerStats, queue_lag, start_health_server
from ingest.runner import run_check
from ingest.spans import log_first_check, record_check
from ingest.writer import BufferFull, ResultWriter
from vigil import logs, metrics, tracing
from vigil.constants import check_queue, slot_job_lifetime
from vigil.db import open_pool
from vigil.results import ResultRow
from vigil.settings import Settings

log = logging.getLogger(__name__)


# Young-generation allocations between collections (Python's default is 700).
GC_THRESHOLD = 20_000

# How often the queue lag and length gauges are refreshed from Redis (two commands).
QUEUE_SAMPLE_SECONDS = 2.0

# Failures of the job as a whole (not of a check): the queue retries them.
JOB_FAILURES = (BufferFull, TimeoutError, psycopg.Error, PoolTimeout)


def result_row(slot: int, region_id: int, spec: MonitorSpec, started: float, res) -> ResultRow:
    t = res.timings
    return ResultRow(time=datetime.fromtimestamp(slot, UTC), monitor_id=spec.id, latency_us=t.total_us,
                     connect_us=t.connect_us + t.tls_us, ttfb_us=t.ttfb_us,
                     lateness_ms=max(0, int((started - slot) * 1000)), region_id=region_id,
                     error_kind=int(res.error_kind), status_code=res.status_code, attempts=res.attempts,
                     up=res.up)


def retry_delay(settings: Settings, job_try: int) -> float:
    """Exponential backoff between tries of a failed job: base, 2×base, 4×base, ..."""
    return settings.worker_retry_backoff_seconds * 2 ** (job_try - 1)


async def check_batch(ctx: dict[str, Any], slot: int, region_id: int,
                      monitors: list[SpecTuple], requests: dict[int, str] | None = None) -> list[ResultRow]:
    """``requests``: the API request that created or changed a monitor, for its first check."""
    check_ctx: CheckContext = ctx["check_ctx"]
    sem: asyncio.Semaphore = ctx["semaphore"]
    stats: WorkerStats = ctx["stats"]
    record = ctx["check_metrics"].record
    certificates: list = []
    traced = tracing.current_span().is_recording()

    async def one(t: SpecTuple) -> ResultRow:
        spec = MonitorSpec(*t)
        async with sem:
            stats.in_flight_checks += 1
            try:
                started = time.time()
                res = await run_check(spec, check_ctx)
            finally:
                stats.in_flight_checks -= 1
        record(spec.kind, res, started - slot)
        if cert := certificate_of(spec.id, res.detail):
            certificates.append(cert)
        if traced:
            record_check(spec, started, res)
        if requests and spec.id in requests:
            log_first_check(spec, requests[spec.id], slot, res)
        return result_row(slot, region_id, spec, started, res)

    rows = await asyncio.gather(*(one(t) for t in monitors))
    # Best effort and after the checks: the certificate is seen again at the next check.
    await store_certificates(ctx["pool"], region_id, certificates)
    return rows


async def run_batch(ctx: dict[str, Any], slot: int, region_id: int, monitors: list[SpecTuple],
                    traceparent: str | None = None, requests: dict[int, str] | None = None) -> int:
    """Check every monitor of the batch for this slot and store the results; returns the count.
    The job continues the scheduler's trace (``traceparent``) and its lines carry its id."""
    job_id = ctx.get("job_id")
    with logs.bind(job_id=job_id), tracing.sampled_span(
            "worker.job", parent=traceparent, job_id=job_id, slot=slot, checks=len(monitors),
            job_try=ctx.get("job_try", 1), region=ctx["settings"].region):
        return await _run_batch(ctx, slot, region_id, monitors, requests)


async def _run_batch(ctx: dict[str, Any], slot: int, region_id: int, monitors: list[SpecTuple],
                     requests: dict[int, str] | None) -> int:
    settings: Settings = ctx["settings"]
    stats: WorkerStats = ctx["stats"]
    job_try = ctx.get("job_try", 1)
    if job_try > settings.worker_job_tries:
        # Only reached when earlier tries never returned (the worker died or hung).
        await _dead_letter(ctx, slot, region_id, monitors, job_try - 1, "worker lost the job on every try")
        return 0
    stats.in_flight_jobs += 1
    try:
        async with asyncio.timeout(settings.worker_job_timeout_seconds):
            rows = await check_batch(ctx, slot, region_id, monitors, requests)
            await ctx["writer"].write(rows)
        metrics.BATCHES.labels(settings.region, "done").inc()
        return len(rows)
    except JOB_FAILURES as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if job_try >= settings.worker_job_tries:
            await _dead_letter(ctx, slot, region_id, monitors, job_try, error)
            return 0
        delay = retry_delay(settings, job_try)
        stats.jobs_retried += 1
        metrics.BATCHES.labels(settings.region, "retried").inc()
        log.warning("batch %s (slot %d, %d checks) failed on try %d (%s); retrying in %.1f s",
                    ctx.get("job_id"), slot, len(monitors), job_try, error, delay)
        raise Retry(defer=delay) from exc
    finally:
        stats.in_flight_jobs -= 1


async def _dead_letter(ctx: dict[str, Any], slot: int, region_id: int, monitors: list[SpecTuple],
                       tries: int, error: str) -> None:
    settings: Settings = ctx["settings"]
    job_id = ctx.get("job_id") or slots.job_id(settings.region, slot, "?")
    log.error("batch %s (slot %d, %d checks) dead-lettered after %d tries: %s",
              job_id, slot, len(monitors), tries, error)
    item = deadletters.entry(job_id, settings.region, region_id, slot, monitors, tries, error)
    await deadletters.push(ctx["redis"], item, settings.dead_letter_max)
    ctx["stats"].dead_lettered += 1
    metrics.BATCHES.labels(settings.region, "dead_lettered").inc()


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    ctx["pool"] = await open_pool(settings.database_url, min_size=1, max_size=4, wait=False)
    writer = ResultWriter(ctx["pool"], settings.writer_flush_rows, settings.writer_flush_seconds,
                          settings.writer_buffer_rows, settings.writer_ack_wait_seconds)
    writer.start()
    ctx["writer"] = writer
    ctx["check_ctx"] = make_check_context(settings.outbound_policy(), pool=ctx["pool"])
    ctx["semaphore"] = asyncio.Semaphore(settings.worker_concurrency)
    stats = ctx.setdefault("stats", WorkerStats())
    ctx["check_metrics"] = (metrics.CheckMetrics(settings.region, tuple(KINDS)) if settings.metrics
                            else metrics.NoCheckMetrics())
    metrics.CHECKS_IN_FLIGHT.set_function(lambda: stats.in_flight_checks)
    if ctx.get("tune_gc"):
        # Each check allocates hundreds of short-lived objects, few of them in cycles: with
        # the default thresholds the cyclic collector runs every few checks and rescans the
        # long-lived ones. Freeze what startup built and collect young objects less often.
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, 20, 20)
    if settings.worker_health_port and "redis" in ctx:
        ctx["health"] = await start_health_server(ctx, settings.worker_health_port)
    if settings.worker_metrics_port and "redis" in ctx:
        ctx["metrics_server"] = metrics.serve(settings, "worker")
        ctx["queue_sampler"] = asyncio.create_task(sample_queue(ctx), name="queue-sampler")
    log.info("worker for region %s ready", settings.region)


async def sample_queue(ctx: dict[str, Any]) -> None:
    """Keep the queue gauges current, also while no job starts (a stuck worker shows its lag)."""
    region = ctx["settings"].region
    lag_gauge, queued_gauge = metrics.QUEUE_LAG.labels(region), metrics.QUEUED_JOBS.labels(region)
    while True:
        try:
            lag, queued = await queue_lag(ctx["redis"], check_queue(region))
            lag_gauge.set(lag)
            queued_gauge.set(queued)
        except Exception as exc:  # Redis away: the health endpoint says so; keep sampling
            log.debug("queue sample failed: %s", exc)
        await asyncio.sleep(QUEUE_SAMPLE_SECONDS)


async def shutdown(ctx: dict[str, Any]) -> None:
    if "queue_sampler" in ctx:
        ctx["queue_sampler"].cancel()
    if "metrics_server" in ctx:
        ctx["metrics_server"].close()
    if "health" in ctx:
        await ctx["health"].cleanup()
    if "writer" in ctx:
        await ctx["writer"].close(ctx["settings"].worker_shutdown_wait_seconds)
    if "check_ctx" in ctx:
        await ctx["check_ctx"].http.close()
    if "pool" in ctx:
        await ctx["pool"].close()


class CheckWorker(Worker):
    """arq's worker, made to outlive a Redis restart: a poll that cannot reach Redis is
    logged and retried instead of ending the process. Jobs Redis lost are stored as missed
    by the scheduler's sweeper; a job whose acknowledgement was lost runs again and its
    repeat writes nothing."""

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        # arq takes a job slot before its Redis transaction and gives it back only on a
        # Redis *reply* error; a lost connection there would leak the slot for good.
        for one in job_ids:
            try:
                await super().start_jobs([one])
            except (RedisConnectionError, RedisTimeoutError, ConnectionError):
                self.job_counter -= 1
                self.sem.release()
                raise

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except (RedisConnectionError, RedisTimeoutError, ConnectionError) as exc:
            log.warning("redis unavailable (%s); retrying in 1 s", exc)
            await asyncio.sleep(1)


def stored_result(data: dict[str, Any]) -> bytes:
    """arq's serializer, except that a job's stored result leaves out the job's arguments.
    Results are kept (for slot_job_lifetime) only so that a slot's job id is refused while
    they exist; their copy of the batch (some 80 bytes a monitor) would otherwise hold
    Redis's memory at that many seconds of every monitor spec checked."""
    if "s" in data and "r" in data:  # a result; a job's own payload has neither
        data = {**data, "a": ()}
    return pickle.dumps(data)


def make_worker(settings: Settings, **overrides: Any) -> Worker:
    kwargs: dict[str, Any] = dict(
        functions=[run_batch],
        queue_name=check_queue(settings.region),
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        ctx={"settings": settings, "tune_gc": True},  # a worker process of its own
        max_jobs=settings.worker_max_jobs,
        # arq's own limit stays above ours, so ours fires first and becomes a retry (arq
        # would record a timed-out job as failed, never to run again).
        job_timeout=settings.worker_job_timeout_seconds + 1,
        # The scheduler's catch-up is read from the same settings: workers and scheduler
        # must agree on it (vigil/constants.py: slot_job_lifetime).
        keep_result=slot_job_lifetime(settings.scheduler_max_catchup_seconds),
        # One try more than ours: the extra one only dead-letters a job whose worker died.
        max_tries=settings.worker_job_tries + 1,
        poll_delay=0.05,  # a deferred slot's job starts at most this late
        handle_signals=True,
        job_completion_wait=settings.worker_shutdown_wait_seconds,
        job_serializer=stored_result,
    )
    kwargs.update(overrides)
    return CheckWorker(**kwargs)
