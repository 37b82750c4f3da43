"""Dead-lettered check batches: jobs that failed on every try, kept for an operator.

They live in a Redis list (newest first, trimmed to ``dead_letter_max``), not in a
table: a job exhausts its tries mostly because the database is unreachable, so the
database is the one place it cannot be recorded at that moment; Redis is where the job
itself already lived. If Redis itself loses them, nothing is silently lost either: the
missed-slot sweeper stores the slots of any batch that never got a result as missed.
``requeue`` puts them back on their region's queue under a fresh job id; their results
replace the missed markers the sweeper may have written meanwhile."""

from __future__ import annotations

import json
import time
from typing import Any

from arq.connections import ArqRedis

from vigil.constants import DEAD_LETTER_KEY, check_queue


def entry(job_id: str, region: str, region_id: int, slot: int, monitors: list, tries: int,
          error: str) -> dict[str, Any]:
    return {"job_id": job_id, "region": region, "region_id": region_id, "slot": slot,
            "monitors": monitors, "tries": tries, "error": error[:500], "failed_at": time.time()}


async def push(redis: ArqRedis, item: dict[str, Any], keep: int) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(DEAD_LETTER_KEY, json.dumps(item))
        pipe.ltrim(DEAD_LETTER_KEY, 0, keep - 1)
        await pipe.execute()


async def listing(redis: ArqRedis, limit: int = 100) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in await redis.lrange(DEAD_LETTER_KEY, 0, limit - 1)]


async def count(redis: ArqRedis) -> int:
    return await redis.llen(DEAD_LETTER_KEY)


async def requeue(redis: ArqRedis) -> int:
    """Move every dead letter back to its region's queue, oldest first; returns how many."""
    moved = 0
    while (raw := await redis.rpop(DEAD_LETTER_KEY)) is not None:
        item = json.loads(raw)
        try:
            await redis.enqueue_job("run_batch", item["slot"], item["region_id"], item["monitors"],
                                    _job_id=f"{item['job_id']}:requeued:{int(time.time() * 1000)}",
                                    _queue_name=check_queue(item["region"]))
        except Exception:
            await redis.rpush(DEAD_LETTER_KEY, raw)  # back where it was; the caller sees the error
            raise
        moved += 1
    return moved
