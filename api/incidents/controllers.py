"""Incidents are written by the evaluator only; the API reads them."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter

from api.errors import NotFound
from api.incidents.schemas import IncidentDetail, IncidentRead, IncidentState
from vigil.queries import sql


class IncidentController(Controller):
    path = "/incidents"
    tags = ["incidents"]

    @get(operation_id="listIncidents")
    async def list_incidents(self, request: Request,
                             incident_state: Annotated[IncidentState | None, QueryParameter(name="state")] = None,
                             monitor_id: Annotated[int | None, QueryParameter(ge=1)] = None,
                             limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
                             before: Annotated[int | None, QueryParameter(ge=1, description="id to list before")] = None,
                             ) -> list[IncidentRead]:
        async with request.app.state.pool.connection() as conn:
            cur = await conn.execute(sql("list_incidents"), {
                "account_id": request.user.account_id, "state": incident_state, "monitor_id": monitor_id,
                "limit": limit, "before": before})
            return [IncidentRead(**r) for r in await cur.fetchall()]

    @get("/{incident_id:int}", operation_id="getIncident")
    async def get_incident(self, request: Request, incident_id: FromPath[int]) -> IncidentDetail:
        params = {"id": incident_id, "account_id": request.user.account_id}
        async with request.app.state.pool.connection() as conn:
            row = await (await conn.execute(sql("get_incident"), params)).fetchone()
            if row is None:
                raise NotFound(f"incident {incident_id} not found")
            sent = await (await conn.execute(sql("incident_notifications"), params)).fetchall()
        return IncidentDetail(**row, notifications=sent)
