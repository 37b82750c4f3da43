from __future__ import annotations

import asyncio

from litestar import Request, Response, get


async def _probe(coro) -> str:
    try:
        await asyncio.wait_for(coro, 2.0)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"[:300]


async def _db_ping(pool) -> None:
    async with pool.connection(timeout=2) as conn:
        await conn.execute("SELECT 1")


@get("/health", operation_id="health", tags=["health"], exclude_from_auth=True)
async def health(request: Request) -> Response[dict]:
    state = request.app.state
    report = {"database": await _probe(_db_ping(state.pool)), "redis": await _probe(state.redis.ping())}
    healthy = all(v == "ok" for v in report.values())
    return Response({"status": "ok" if healthy else "degraded", **report}, status_code=200 if healthy else 503)
