from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.maintenance.schemas import MaintenanceCreate, MaintenanceRead, MaintenanceUpdate
from api.maintenance.service import MaintenanceService


def _service(request: Request) -> MaintenanceService:
    return MaintenanceService(request.app.state.pool, request.user.account_id)


class MaintenanceController(Controller):
    path = "/maintenance"
    tags = ["maintenance windows"]

    @post(operation_id="createMaintenanceWindow")
    async def create_window(self, request: Request, data: JSONBody[MaintenanceCreate]) -> MaintenanceRead:
        return MaintenanceRead(**await _service(request).create(data))

    @get(operation_id="listMaintenanceWindows")
    async def list_windows(self, request: Request,
                           limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
                           after: Annotated[int, QueryParameter(ge=0, description="id to list after")] = 0,
                           monitor_id: Annotated[int | None, QueryParameter(ge=1, description=(
                               "only windows covering this monitor (its own and account-wide)"))] = None,
                           ) -> list[MaintenanceRead]:
        return [MaintenanceRead(**w) for w in await _service(request).list(limit, after, monitor_id)]

    @get("/{window_id:int}", operation_id="getMaintenanceWindow")
    async def get_window(self, request: Request, window_id: FromPath[int]) -> MaintenanceRead:
        return MaintenanceRead(**await _service(request).get(window_id))

    @patch("/{window_id:int}", operation_id="updateMaintenanceWindow")
    async def update_window(self, request: Request, window_id: FromPath[int],
                            data: JSONBody[MaintenanceUpdate]) -> MaintenanceRead:
        return MaintenanceRead(**await _service(request).update(window_id, data))

    @delete("/{window_id:int}", operation_id="deleteMaintenanceWindow")
    async def delete_window(self, request: Request, window_id: FromPath[int]) -> None:
        await _service(request).delete(window_id)
