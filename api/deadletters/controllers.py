"""GET /api/v1/dead-letters: check batches that failed every try.

Dead letters are shared by all accounts (one batch holds many accounts' monitors), so a
caller sees only the batches holding its own monitors, and only those monitors' ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Request, get
from litestar.params import QueryParameter
from pydantic import BaseModel

from ingest import deadletters
from vigil.queries import sql

# Dead letters scanned per request (the list is trimmed to dead_letter_max anyway).
SCAN_LIMIT = 10_000


class DeadLetterRead(BaseModel):
    job_id: str
    region: str
    slot: datetime
    monitor_ids: list[int]
    tries: int
    error: str
    failed_at: datetime


@get("/dead-letters", operation_id="listDeadLetters", tags=["dead letters"])
async def list_dead_letters(request: Request,
                            limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
                            ) -> list[DeadLetterRead]:
    items = await deadletters.listing(request.app.state.redis, SCAN_LIMIT)
    ids = sorted({m[0] for item in items for m in item["monitors"]})
    async with request.app.state.pool.connection() as conn:
        cur = await conn.execute(sql("own_monitor_ids"), {"account_id": request.user.account_id, "ids": ids})
        own = {row["id"] for row in await cur.fetchall()}
    out = []
    for item in items:
        mine = [m[0] for m in item["monitors"] if m[0] in own]
        if mine:
            out.append(DeadLetterRead(job_id=item["job_id"], region=item["region"],
                                      slot=datetime.fromtimestamp(item["slot"], UTC), monitor_ids=mine,
                                      tries=item["tries"], error=item["error"],
                                      failed_at=datetime.fromtimestamp(item["failed_at"], UTC)))
            if len(out) >= limit:
                break
    return out
