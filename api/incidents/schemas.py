from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

IncidentState = Literal["pending", "firing", "resolved"]


class NotificationRead(BaseModel):
    id: int
    channel_id: int
    event: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None


class IncidentRead(BaseModel):
    id: int
    state: IncidentState
    rule_id: int
    rule_name: str
    rule_kind: str
    severity: str
    monitor_id: int
    monitor_name: str
    started_at: datetime
    fired_at: datetime | None
    resolved_at: datetime | None
    last_evaluated_at: datetime
    reminders: int
    summary: str
    reason: dict[str, Any]


class IncidentDetail(IncidentRead):
    notifications: list[NotificationRead]
