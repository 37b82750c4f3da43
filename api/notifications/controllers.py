"""The outbox, read-only: what was sent where, and every attempt's outcome."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter

from api.errors import NotFound
from api.notifications.schemas import AttemptRead, NotificationDetail, NotificationRead
from vigil.constants import PG_BIGINT_MAX, PG_INT_MAX
from vigil.queries import sql


class NotificationController(Controller):
    path = "/notifications"
    tags = ["notifications"]

    @get(operation_id="listNotifications")
    async def list_notifications(
        self, request: Request,
        status: FromQuery[Literal["pending", "delivering", "sent", "dead"] | None] = None,
        event: FromQuery[Literal["firing", "resolved", "reminder", "test", "report"] | None] = None,
        channel_id: Annotated[int | None, QueryParameter(ge=1, le=PG_INT_MAX)] = None,
        incident_id: Annotated[int | None, QueryParameter(ge=1, le=PG_BIGINT_MAX)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        before: Annotated[int | None, QueryParameter(ge=1, le=PG_BIGINT_MAX,
                                                     description="id to list before (newest first)")] = None,
    ) -> list[NotificationRead]:
        params = {"account_id": request.user.account_id, "status": status, "event": event,
                  "channel_id": channel_id, "incident_id": incident_id, "limit": limit, "before": before}
        async with request.app.state.pool.connection() as conn:
            rows = await (await conn.execute(sql("list_notifications"), params)).fetchall()
        return [NotificationRead(**r) for r in rows]

    @get("/{notification_id:int}", operation_id="getNotification")
    async def get_notification(self, request: Request, notification_id: FromPath[int]) -> NotificationDetail:
        async with request.app.state.pool.connection() as conn:
            row = await (await conn.execute(sql("get_notification"), {
                "id": notification_id, "account_id": request.user.account_id})).fetchone()
            if row is None:
                raise NotFound(f"notification {notification_id} not found")
            attempts = await (await conn.execute(sql("notification_attempts"), {"id": notification_id})).fetchall()
        return NotificationDetail(**row, attempt_log=[AttemptRead(**a) for a in attempts])
