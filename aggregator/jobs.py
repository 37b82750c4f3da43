"""Aggregator cron job: roll what is due into rollup_1h/rollup_1d, apply retention, and
pack the indexes of closed raw chunks."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from aggregator.packing import pack_closed_chunks
from aggregator.retention import apply_retention
from aggregator.rollup import hourly_watermark, roll
from vigil import logs, metrics, tracing

log = logging.getLogger(__name__)

# The hourly watermark last read (Unix time; None before the first run or without data):
# the lag gauge is computed from it when scraped, so it keeps growing if runs stop.
_watermark: list[float | None] = [None]
metrics.WATERMARK_LAG.set_function(lambda: 0.0 if _watermark[0] is None else time.time() - _watermark[0])


async def aggregate(ctx: dict[str, Any]) -> int:
    """Roll finished buckets and drop expired chunks; returns hour buckets rolled."""
    started = time.perf_counter()
    try:
        rolled = await _aggregate(ctx)
    except Exception:
        metrics.AGGREGATOR_FAILURES.inc()
        raise
    metrics.BUCKETS_ROLLED.inc(rolled)
    metrics.ROLLUP_DURATION.observe(time.perf_counter() - started)
    return rolled


async def _aggregate(ctx: dict[str, Any]) -> int:
    """One span (its statements the children) and the job's id on every line."""
    pool = ctx["pool"]
    with logs.bind(job_id=ctx.get("job_id")), tracing.span("aggregator.run", job_id=ctx.get("job_id")) as span:
        rolled = await roll(pool)
        span.set_attribute("hours_rolled", rolled)
        now = datetime.now(UTC)
        async with pool.connection() as conn:
            watermark = await hourly_watermark(conn)
            await apply_retention(conn, ctx["settings"], now)
        _watermark[0] = watermark.timestamp() if watermark is not None else None
        await pack_closed_chunks(ctx["settings"].database_url, now)
    return rolled
