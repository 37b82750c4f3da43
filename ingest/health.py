"""The worker's liveness/health endpoint: GET /health on ``worker_health_port``.

It answers 200 while the worker can reach Redis and its writer is running, 503 otherwise,
with what an operator needs to see a worker falling behind: queue lag (age of the oldest
due job in its region's queue), jobs queued, checks and batches in flight, rows waiting
in the writer's buffer, rows dropped or held, dead-lettered batches."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from vigil.constants import check_queue

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    in_flight_checks: int = 0
    in_flight_jobs: int = 0
    jobs_retried: int = 0
    dead_lettered: int = 0


async def queue_lag(redis: Any, queue: str) -> tuple[float, int]:
    """(seconds the oldest due job has waited, jobs in the queue). arq scores jobs by the
    time they may start, in ms; deferred retries (score in the future) are not lag."""
    now_ms = time.time() * 1000
    oldest = await redis.zrangebyscore(queue, "-inf", now_ms, start=0, num=1, withscores=True)
    queued = await redis.zcard(queue)
    lag = max(0.0, (now_ms - oldest[0][1]) / 1000) if oldest else 0.0
    return lag, queued


async def report(ctx: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    settings = ctx["settings"]
    writer = ctx["writer"]
    body: dict[str, Any] = {"region": settings.region, **asdict(ctx["stats"]),
                            "buffered_rows": writer.buffered_rows, "buffer_limit": writer.max_buffer_rows,
                            "written_rows": writer.written_rows, "dropped_rows": writer.dropped_rows,
                            "refused_rows": writer.refused_rows,
                            "held_rows": writer.held_rows, "database_down": writer.database_down}
    problems = []
    try:
        body["queue_lag_s"], body["queued_jobs"] = await queue_lag(ctx["redis"], check_queue(settings.region))
    except Exception as exc:
        problems.append(f"redis: {type(exc).__name__}: {exc}")
    task = writer._task
    if task is None or task.done():
        problems.append("writer stopped")
    body["status"] = "degraded" if problems else "ok"
    if problems:
        body["problems"] = problems
    return (503 if problems else 200), body


async def start_health_server(ctx: dict[str, Any], port: int) -> web.AppRunner:
    async def health(_: web.Request) -> web.Response:
        status, body = await report(ctx)
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, ctx["settings"].worker_health_host, port).start()
    log.info("worker health endpoint on http://127.0.0.1:%d/health", port)
    return runner
