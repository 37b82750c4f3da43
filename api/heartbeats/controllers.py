"""Heartbeat routes: the ping a cron job calls (no API key: the token is the credential)
and issuing a monitor's token."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.params import FromPath
from pydantic import BaseModel

from api.heartbeats.service import issue_token, record_ping
from vigil.constants import API_PREFIX


class PingRead(BaseModel):
    ok: bool
    pings: int


class TokenRead(BaseModel):
    monitor_id: int
    token: str
    ping_url: str


async def _ping(request: Request, token: str) -> PingRead:
    row = await record_ping(request.app.state.pool, token)
    return PingRead(ok=True, pings=row["pings"])


@post("/heartbeats/{token:str}", operation_id="pingHeartbeat", tags=["heartbeats"], exclude_from_auth=True,
      status_code=200, security=[])
async def ping_post(request: Request, token: FromPath[str]) -> PingRead:
    return await _ping(request, token)


@get("/heartbeats/{token:str}", operation_id="pingHeartbeatGet", tags=["heartbeats"], exclude_from_auth=True,
     security=[])
async def ping_get(request: Request, token: FromPath[str]) -> PingRead:
    return await _ping(request, token)


@post("/monitors/{monitor_id:int}/heartbeat-token", operation_id="issueHeartbeatToken", tags=["heartbeats"])
async def issue(request: Request, monitor_id: FromPath[int]) -> TokenRead:
    token = await issue_token(request.app.state.pool, request.user.account_id, monitor_id)
    return TokenRead(monitor_id=monitor_id, token=token, ping_url=f"{API_PREFIX}/heartbeats/{token}")


HEARTBEAT_HANDLERS = [ping_post, ping_get, issue]
