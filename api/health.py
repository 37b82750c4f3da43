"""Health. The public route says only ok or degraded; the operator's route
(api/operator/controllers.py) says which dependency is unreachable, never how it is
reached (hosts, ports, users): the details go to the server log."""

from __future__ import annotations

import asyncio
import logging

from litestar import Request, Response, get

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


async def dependencies(state) -> dict[str, str]:
    """Each dependency's state: "ok" or a short error."""
    return {"database": await _probe("database", _db_ping(state.pool)),
            "redis": await _probe("redis", state.redis.ping())}


def overall(report: dict[str, str]) -> str:
    return "ok" if all(v == "ok" for v in report.values()) else "degraded"


@get("/health", operation_id="health", tags=["health"], exclude_from_auth=True)
async def health(request: Request) -> Response[dict]:
    status = overall(await dependencies(request.app.state))
    return Response({"status": status}, status_code=200 if status == "ok" else 503)
