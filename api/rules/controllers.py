from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.rules.schemas import RuleCreate, RuleRead, RuleUpdate
from api.rules.service import RuleService


def _service(request: Request) -> RuleService:
    return RuleService(request.app.state.pool, request.user.account_id)


class RuleController(Controller):
    path = "/rules"
    tags = ["alert rules"]

    @post(operation_id="createRule")
    async def create_rule(self, request: Request, data: JSONBody[RuleCreate]) -> RuleRead:
        return RuleRead(**await _service(request).create(data))

    @get(operation_id="listRules")
    async def list_rules(self, request: Request,
                         limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
                         after: Annotated[int, QueryParameter(ge=0, description="id to list after")] = 0,
                         ) -> list[RuleRead]:
        return [RuleRead(**r) for r in await _service(request).list(limit, after)]

    @get("/{rule_id:int}", operation_id="getRule")
    async def get_rule(self, request: Request, rule_id: FromPath[int]) -> RuleRead:
        return RuleRead(**await _service(request).get(rule_id))

    @patch("/{rule_id:int}", operation_id="updateRule")
    async def update_rule(self, request: Request, rule_id: FromPath[int], data: JSONBody[RuleUpdate]) -> RuleRead:
        return RuleRead(**await _service(request).update(rule_id, data))

    @delete("/{rule_id:int}", operation_id="deleteRule")
    async def delete_rule(self, request: Request, rule_id: FromPath[int]) -> None:
        await _service(request).delete(rule_id)
