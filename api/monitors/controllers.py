from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.monitors.schemas import MonitorCreate, MonitorRead, MonitorUpdate, ResultRead
from api.monitors.service import MonitorService


def _service(request: Request) -> MonitorService:
    return MonitorService(request.app.state.pool, request.user.account_id, request.app.state.settings)


class MonitorController(Controller):
    path = "/monitors"
    tags = ["monitors"]

    @post(operation_id="createMonitor")
    async def create_monitor(self, request: Request, data: JSONBody[MonitorCreate]) -> MonitorRead:
        return MonitorRead(**await _service(request).create(data))

    @get(operation_id="listMonitors")
    async def list_monitors(self, request: Request,
                   limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
                   after: Annotated[int, QueryParameter(ge=0, description="id to list after")] = 0,
                   ) -> list[MonitorRead]:
        return [MonitorRead(**m) for m in await _service(request).list(limit, after)]

    @get("/{monitor_id:int}", operation_id="getMonitor")
    async def get_monitor(self, request: Request, monitor_id: FromPath[int]) -> MonitorRead:
        return MonitorRead(**await _service(request).get(monitor_id))

    @patch("/{monitor_id:int}", operation_id="updateMonitor")
    async def update_monitor(self, request: Request, monitor_id: FromPath[int], data: JSONBody[MonitorUpdate]) -> MonitorRead:
        return MonitorRead(**await _service(request).update(monitor_id, data))

    @delete("/{monitor_id:int}", operation_id="deleteMonitor")
    async def delete_monitor(self, request: Request, monitor_id: FromPath[int]) -> None:
        await _service(request).delete(monitor_id)

    @get("/{monitor_id:int}/results", operation_id="listMonitorResults")
    async def list_results(self, request: Request, monitor_id: FromPath[int],
                      limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 100,
                      hours: Annotated[int, QueryParameter(ge=1, le=24 * 90, description="look back")] = 24,
                      ) -> list[ResultRead]:
        rows = await _service(request).recent_results(monitor_id, limit, hours)
        return [ResultRead(**r) for r in rows]
