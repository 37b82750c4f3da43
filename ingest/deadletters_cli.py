"""`vigil dead-letters [--requeue]`: list dead-lettered batches, or put them back."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime

from arq import create_pool
from arq.connections import RedisSettings
from redis.exceptions import RedisError

from ingest import deadletters
from vigil.clierrors import safe_redis_url
from vigil.settings import Settings


def summary(item: dict) -> dict:
    return {"job_id": item["job_id"], "region": item["region"],
            "slot": datetime.fromtimestamp(item["slot"], UTC).isoformat(),
            "monitor_ids": [m[0] for m in item["monitors"]], "tries": item["tries"],
            "error": item["error"], "failed_at": datetime.fromtimestamp(item["failed_at"], UTC).isoformat()}


async def _run(settings: Settings, requeue: bool, limit: int) -> int:
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    redis_settings.conn_retries = 1  # a command line answers quickly, even when Redis is down
    redis = await create_pool(redis_settings)
    try:
        if requeue:
            moved = await deadletters.requeue(redis)
            print(f"requeued {moved} dead-lettered batch(es)")
            return 0
        total = await deadletters.count(redis)
        for item in await deadletters.listing(redis, limit):
            print(json.dumps(summary(item)))
        print(f"{total} dead-lettered batch(es)", file=sys.stderr)
        return 0
    finally:
        await redis.aclose()


def main(settings: Settings, requeue: bool, limit: int) -> int:
    if limit < 1:
        print(f"vigil dead-letters: --limit must be at least 1, got {limit}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(settings, requeue, limit))
    except (RedisError, OSError) as exc:
        print(f"vigil dead-letters: cannot reach Redis at {safe_redis_url(settings.redis_url)}: {exc}",
              file=sys.stderr)
        return 1
