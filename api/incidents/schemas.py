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
    # The evaluation (its job id, the job_id of its log lines) or API request (request_id)
    # that queued it, and the trace its delivery belongs to.
    correlation_id: str | None = None
    trace_id: str | None = None


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
    # The evaluation that opened it: its job id (the job_id of that tick's log lines) and trace.
    correlation_id: str | None = None
    trace_id: str | None = None


class IncidentDetail(IncidentRead):
    notifications: list[NotificationRead]
