"""Maintenance window schemas. One-off: `starts_at` and `ends_at`. Weekly: `weekly` with ISO
weekdays (1 = Monday), a local start time, a duration and a time zone; `starts_at` /
`ends_at` then optionally bound the period the recurrence is active in."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)


class Weekly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(min_length=1, max_length=7)
    start_time: time
    duration_s: int = Field(ge=60, le=86400)
    time_zone: Annotated[str, StringConstraints(max_length=64)] = "UTC"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @field_validator("weekdays")
    @classmethod
    def _unique(cls, v: list[int]) -> list[int]:
        return sorted(set(v))


class MaintenanceFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(max_length=200)] = ""
    monitor_id: int | None = Field(default=None, ge=1, description="the monitor; omit for the whole account")
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    weekly: Weekly | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MaintenanceFields:
        if self.weekly is None and (self.starts_at is None or self.ends_at is None):
            raise ValueError("a one-off window needs starts_at and ends_at (or give weekly)")
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class MaintenanceCreate(MaintenanceFields):
    pass


class MaintenanceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    monitor_id: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekly: dict | None = None


class MaintenanceRead(MaintenanceFields):
    id: int
    created_at: datetime
