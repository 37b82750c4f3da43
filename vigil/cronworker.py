"""A minute-cron arq worker around one job function (aggregator, evaluator, ...).

arq's cron jobs with ``unique=True`` get a job id from the function and the tick time, so
several copies of a service running at once still run each tick once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import Worker

from vigil import metrics
from vigil.db import open_pool
from vigil.settings import Settings

JobFn = Callable[[dict[str, Any]], Awaitable[Any]]


async def _startup(ctx: dict[str, Any]) -> None:
    ctx["pool"] = await open_pool(ctx["settings"].database_url, max_size=4, wait=False)
    if ctx.get("service"):
        ctx["metrics_server"] = metrics.serve(ctx["settings"], ctx["service"])
    ctx["background_tasks"] = [asyncio.create_task(fn(ctx), name=fn.__name__)
                               for fn in ctx.get("background", ())]


async def _shutdown(ctx: dict[str, Any]) -> None:
    for task in ctx.get("background_tasks", ()):
        task.cancel()
    await asyncio.gather(*ctx.get("background_tasks", ()), return_exceptions=True)
    if ctx.get("metrics_server"):
        ctx["metrics_server"].close()
    if "pool" in ctx:
        await ctx["pool"].close()


def make_cron_worker(settings: Settings, queue: str, jobs: list[tuple[JobFn, dict[str, Any]]],
                     functions: list | None = None, service: str | None = None,
                     background: tuple[JobFn, ...] = (), **overrides: Any) -> Worker:
    """jobs: (function, arq cron schedule kwargs such as {"second": 5}); service: whose
    metrics port setting to serve metrics on (vigil/metrics.py); background: async functions
    of ctx run as tasks beside the cron from startup (pool open) to shutdown."""
    kwargs: dict[str, Any] = dict(
        functions=functions or [],
        cron_jobs=[cron(fn, unique=True, run_at_startup=False, timeout=300, **sched) for fn, sched in jobs],
        queue_name=queue,
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        on_startup=_startup,
        on_shutdown=_shutdown,
        ctx={"settings": settings, "service": service, "background": background},
        handle_signals=True,
    )
    kwargs.update(overrides)
    return Worker(**kwargs)


async def run_job_once(settings: Settings, fn: JobFn, **extra: Any) -> Any:
    ctx: dict[str, Any] = {"settings": settings, **extra}
    await _startup(ctx)
    try:
        return await fn(ctx)
    finally:
        await _shutdown(ctx)


def run_worker(worker_factory: Callable[[], Worker]) -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())
    worker_factory().run()
