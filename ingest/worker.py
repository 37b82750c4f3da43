"""The check worker: an arq worker serving one region's queue. Each job is one batch of
due checks for one slot; the worker runs them concurrently and writes their results
through the shared ResultWriter before the job is acknowledged."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker

from ingest.certificates import certificate_of, store_certificates
from ingest.checks.base import CheckContext, MonitorSpec
from ingest.context import make_check_context
from ingest.runner import run_check
from ingest.writer import ResultRow, ResultWriter
from vigil.constants import JOB_RESULT_TTL_SECONDS, check_queue
from vigil.db import open_pool
from vigil.settings import Settings

log = logging.getLogger(__name__)

# A job's payload: (id, kind, target, timeout_ms, expectations, attempts) per monitor.
SpecTuple = tuple[int, str, str, int, dict, int]


def result_row(slot: int, region_id: int, spec: MonitorSpec, started: float, res) -> ResultRow:
    t = res.timings
    return (datetime.fromtimestamp(slot, UTC), spec.id, t.total_us, t.connect_us + t.tls_us,
            t.ttfb_us, max(0, int((started - slot) * 1000)), region_id, int(res.error_kind),
            res.status_code, res.attempts, res.up)


async def run_batch(ctx: dict[str, Any], slot: int, region_id: int, monitors: list[SpecTuple]) -> int:
    """Check every monitor of the batch for this slot and store the results; returns the count."""
    check_ctx: CheckContext = ctx["check_ctx"]
    sem: asyncio.Semaphore = ctx["semaphore"]
    certificates: list = []

    async def one(t: SpecTuple) -> ResultRow:
        spec = MonitorSpec(*t)
        async with sem:
            started = time.time()
            res = await run_check(spec, check_ctx)
        if cert := certificate_of(spec.id, res.detail):
            certificates.append(cert)
        return result_row(slot, region_id, spec, started, res)

    rows = await asyncio.gather(*(one(t) for t in monitors))
    await ctx["writer"].write(rows)
    await store_certificates(ctx["pool"], region_id, certificates)
    return len(rows)


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    ctx["pool"] = await open_pool(settings.database_url, min_size=1, max_size=4, wait=False)
    writer = ResultWriter(ctx["pool"], settings.writer_flush_rows, settings.writer_flush_seconds,
                          settings.writer_buffer_rows)
    writer.start()
    ctx["writer"] = writer
    ctx["check_ctx"] = make_check_context(settings.allow_private_targets, pool=ctx["pool"])
    ctx["semaphore"] = asyncio.Semaphore(settings.worker_concurrency)
    log.info("worker for region %s ready", settings.region)


async def shutdown(ctx: dict[str, Any]) -> None:
    if "writer" in ctx:
        await ctx["writer"].close()
    if "check_ctx" in ctx:
        await ctx["check_ctx"].http.close()
    if "pool" in ctx:
        await ctx["pool"].close()


def make_worker(settings: Settings, **overrides: Any) -> Worker:
    kwargs: dict[str, Any] = dict(
        functions=[run_batch],
        queue_name=check_queue(settings.region),
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        ctx={"settings": settings},
        max_jobs=settings.worker_max_jobs,
        job_timeout=300,
        keep_result=JOB_RESULT_TTL_SECONDS,
        max_tries=5,
        poll_delay=0.1,
        handle_signals=True,
    )
    kwargs.update(overrides)
    return Worker(**kwargs)
