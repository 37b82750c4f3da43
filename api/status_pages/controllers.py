"""Managing status pages, the incidents posted on them and monitor badges (write keys change,
read keys list). The public side is api/status_pages/public.py."""

from __future__ import annotations

from typing import Annotated, TypeVar

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.errors import field_error
from api.status_pages.cache import forget_answers
from api.status_pages.schemas import (
    BadgeRead,
    IncidentCreate,
    IncidentRead,
    IncidentUpdate,
    PageCreate,
    PageRead,
    PageUpdate,
    UpdateCreate,
)
from api.status_pages.service import BadMonitor, StatusPageService

T = TypeVar("T")


def _service(request: Request) -> StatusPageService:
    return StatusPageService(request.app.state.pool, request.user.account_id)


def _changed(request: Request, answer: T) -> T:
    """What the public sees may have changed: this process's cached public answers go."""
    forget_answers(request.app)
    return answer


class StatusPageController(Controller):
    path = "/status-pages"
    tags = ["status pages"]
    exception_handlers = {BadMonitor: field_error}

    @post(operation_id="createStatusPage")
    async def create_page(self, request: Request, data: JSONBody[PageCreate]) -> PageRead:
        return _changed(request, PageRead(**await _service(request).create(data)))

    @get(operation_id="listStatusPages")
    async def list_pages(self, request: Request, limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
                         after: Annotated[int, QueryParameter(ge=0, le=2**31 - 1)] = 0) -> list[PageRead]:
        return [PageRead(**p) for p in await _service(request).list(limit, after)]

    @get("/{page_id:int}", operation_id="getStatusPage")
    async def get_page(self, request: Request, page_id: FromPath[int]) -> PageRead:
        return PageRead(**await _service(request).get(page_id))

    @patch("/{page_id:int}", operation_id="updateStatusPage")
    async def update_page(self, request: Request, page_id: FromPath[int], data: JSONBody[PageUpdate]) -> PageRead:
        return _changed(request, PageRead(**await _service(request).update(page_id, data)))

    @post("/{page_id:int}/link", operation_id="rotateStatusPageLink", status_code=200)
    async def rotate_link(self, request: Request, page_id: FromPath[int]) -> PageRead:
        """A new unguessable link for a link page (the old one stops working)."""
        page = await _service(request).update(page_id, PageUpdate(visibility="link"), new_link_wanted=True)
        return _changed(request, PageRead(**page))

    @delete("/{page_id:int}", operation_id="deleteStatusPage")
    async def delete_page(self, request: Request, page_id: FromPath[int]) -> None:
        _changed(request, await _service(request).delete(page_id))

    @post("/incidents", operation_id="createStatusIncident")
    async def create_incident(self, request: Request, data: JSONBody[IncidentCreate]) -> IncidentRead:
        return _changed(request, IncidentRead(**await _service(request).create_incident(data)))

    @get("/incidents", operation_id="listStatusIncidents")
    async def list_incidents(self, request: Request, limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
                             before: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
                             ) -> list[IncidentRead]:
        return [IncidentRead(**i) for i in await _service(request).list_incidents(limit, before)]

    @get("/incidents/{status_incident_id:int}", operation_id="getStatusIncident")
    async def get_incident(self, request: Request, status_incident_id: FromPath[int]) -> IncidentRead:
        return IncidentRead(**await _service(request).get_incident(status_incident_id))

    @patch("/incidents/{status_incident_id:int}", operation_id="updateStatusIncident")
    async def update_incident(self, request: Request, status_incident_id: FromPath[int],
                              data: JSONBody[IncidentUpdate]) -> IncidentRead:
        return _changed(request, IncidentRead(**await _service(request).update_incident(status_incident_id, data)))

    @post("/incidents/{status_incident_id:int}/updates", operation_id="addStatusIncidentUpdate")
    async def add_update(self, request: Request, status_incident_id: FromPath[int],
                         data: JSONBody[UpdateCreate]) -> IncidentRead:
        return _changed(request, IncidentRead(**await _service(request).add_update(status_incident_id, data)))

    @delete("/incidents/{status_incident_id:int}", operation_id="deleteStatusIncident")
    async def delete_incident(self, request: Request, status_incident_id: FromPath[int]) -> None:
        _changed(request, await _service(request).delete_incident(status_incident_id))


class BadgeController(Controller):
    path = "/monitors/{monitor_id:int}/badge"
    tags = ["status pages"]

    @post(operation_id="issueMonitorBadge")
    async def issue(self, request: Request, monitor_id: FromPath[int]) -> BadgeRead:
        """Turn badges on for the monitor; the answer holds its badge token, once."""
        token = _changed(request, await _service(request).issue_badge(monitor_id))
        base = f"/badge/{token}"
        return BadgeRead(monitor_id=monitor_id, token=token, status_url=f"{base}/status.svg",
                         uptime_url=f"{base}/uptime.svg?window=30d", p95_url=f"{base}/p95.svg?window=24h")

    @delete(operation_id="removeMonitorBadge")
    async def remove(self, request: Request, monitor_id: FromPath[int]) -> None:
        """Turn the monitor's badges off (every badge address of it answers 404)."""
        _changed(request, await _service(request).remove_badge(monitor_id))
