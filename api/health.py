"""Unauthenticated health: says which dependency is unreachable, never how it is reached
(hosts, ports, users); the details go to the server log."""

from __future__ import annotations

import asyncio
import logging

from litestar import Request, Response, get
from litestar.params import FromQuery

from api.security import EVENTS

log = logging.getLogger(__name__)


async def _probe(name: str, coro) -> str:
    try:
        await asyncio.wait_for(coro, 2.0)
        return "ok"
    except TimeoutError:
        log.warning("health: %s did not answer within 2 s", name)
        return "error: no answer within 2 s"
    except Exception as exc:
        log.warning("health: %s unreachable: %s: %s", name, type(exc).__name__, exc)
        return "error: unreachable"


async def _db_ping(pool) -> None:
    async with pool.connection(timeout=2) as conn:
        await conn.execute("SELECT 1")


@get("/health", operation_id="health", tags=["health"], exclude_from_auth=True)
async def health(request: Request, detail: FromQuery[bool] = False) -> Response[dict]:
    """With ``detail=true``, also the suspicious requests this API process has seen since it
    started, by event (see api/security.py)."""
    state = request.app.state
    report = {"database": await _probe("database", _db_ping(state.pool)),
              "redis": await _probe("redis", state.redis.ping())}
    healthy = all(v == "ok" for v in report.values())
    body = {"status": "ok" if healthy else "degraded", **report}
    if detail:
        body["security_events"] = dict(EVENTS)
    return Response(body, status_code=200 if healthy else 503)
