"""/api/v1/operator: what the person running Vigil sees and does across every account.
Only the operator token opens these routes (api/operator/auth.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.deadletters.controllers import SCAN_LIMIT, DeadLetterRead
from api.health import dependencies, overall
from api.operator import service
from api.operator.schemas import AccountCreate, AccountCreated, AccountRead, SystemHealth
from api.security import EVENTS
from ingest import deadletters
from vigil.constants import PG_INT_MAX, check_queue
from vigil.queries import sql

AccountId = Annotated[int, PathParameter(ge=1, le=PG_INT_MAX)]


async def _queued(state) -> dict[str, int]:
    async with state.pool.connection() as conn:
        regions = [row["name"] for row in await (await conn.execute(sql("region_names"))).fetchall()]
    return {name: await state.redis.zcard(check_queue(name)) for name in regions}


class OperatorController(Controller):
    path = "/"
    tags = ["operator"]

    @get("/accounts", operation_id="operatorListAccounts")
    async def list_accounts(self, request: Request) -> list[AccountRead]:
        return await service.accounts(request.app.state.pool)

    @post("/accounts", operation_id="operatorCreateAccount", status_code=201)
    async def create_account(self, request: Request, data: JSONBody[AccountCreate]) -> AccountCreated:
        account, token = await service.create_account(request.app.state.pool, data.name)
        return AccountCreated(account=account, api_key=token)

    @post("/accounts/{account_id:int}/disable", operation_id="operatorDisableAccount", status_code=200)
    async def disable_account(self, request: Request, account_id: AccountId) -> AccountRead:
        return await service.set_disabled(request.app.state, account_id, True)

    @post("/accounts/{account_id:int}/enable", operation_id="operatorEnableAccount", status_code=200)
    async def enable_account(self, request: Request, account_id: AccountId) -> AccountRead:
        return await service.set_disabled(request.app.state, account_id, False)

    @get("/dead-letters", operation_id="operatorListDeadLetters")
    async def dead_letters(self, request: Request,
                           limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100) -> list[DeadLetterRead]:
        items = await deadletters.listing(request.app.state.redis, min(limit, SCAN_LIMIT))
        return [DeadLetterRead(job_id=i["job_id"], region=i["region"],
                               slot=datetime.fromtimestamp(i["slot"], UTC),
                               monitor_ids=[m[0] for m in i["monitors"]], tries=i["tries"], error=i["error"],
                               failed_at=datetime.fromtimestamp(i["failed_at"], UTC)) for i in items]

    @get("/health", operation_id="operatorHealth")
    async def health(self, request: Request) -> Response[SystemHealth]:
        state = request.app.state
        report = await dependencies(state)
        redis_ok = report["redis"] == "ok"
        stats = state.pool.get_stats()
        body = SystemHealth(
            status=overall(report), **report,
            dead_letters=await deadletters.count(state.redis) if redis_ok else None,
            queued_batches=await _queued(state) if redis_ok and report["database"] == "ok" else {},
            pool={"size": stats.get("pool_size", 0), "available": stats.get("pool_available", 0),
                  "waiting": stats.get("requests_waiting", 0)},
            security_events=dict(EVENTS), read_replica=state.reads.report())
        return Response(body, status_code=200 if body.status == "ok" else 503)
