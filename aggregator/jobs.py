"""Aggregator cron job: roll what is due into rollup_1h/rollup_1d, apply retention, and
pack the indexes of closed raw chunks."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from aggregator.packing import pack_closed_chunks
from aggregator.retention import apply_retention
from aggregator.rollup import roll
from vigil import logs, tracing

log = logging.getLogger(__name__)


async def aggregate(ctx: dict[str, Any]) -> int:
    """Roll finished buckets and drop expired chunks; returns hour buckets rolled. One span
    (its statements the children) and the job's id on every line."""
    pool = ctx["pool"]
    with logs.bind(job_id=ctx.get("job_id")), tracing.span("aggregator.run", job_id=ctx.get("job_id")) as span:
        rolled = await roll(pool)
        span.set_attribute("hours_rolled", rolled)
        now = datetime.now(UTC)
        async with pool.connection() as conn:
            await apply_retention(conn, ctx["settings"], now)
        await pack_closed_chunks(ctx["settings"].database_url, now)
    return rolled
