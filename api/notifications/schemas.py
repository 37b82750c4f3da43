from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AttemptRead(BaseModel):
    attempted_at: datetime
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int


class NotificationRead(BaseModel):
    id: int
    channel_id: int
    incident_id: int | None
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    payload: dict[str, Any]
    # The evaluation (its job id, the job_id of its log lines) or API request (request_id)
    # that queued it, and the trace its delivery belongs to.
    correlation_id: str | None = None
    trace_id: str | None = None


class NotificationDetail(NotificationRead):
    attempt_log: list[AttemptRead]
