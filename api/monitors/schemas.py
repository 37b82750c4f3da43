"""Monitor schemas in threes: Create (what a client sends), Update (any subset), Read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from vigil.constants import MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS

RegionName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Expectations(BaseModel):
    """What makes a check 'up', beyond the kind's default, and how it is made."""

    model_config = ConfigDict(extra="forbid")

    attempts: int = Field(default=1, ge=1, le=10, description="tries inside a slot before recording down")
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    status_codes: list[Annotated[int, Field(ge=100, le=599)]] = Field(
        default_factory=list, description="accepted HTTP statuses; empty means 2xx/3xx")
    max_redirects: int = Field(default=10, ge=0, le=30)


def validate_target(kind: str, target: str) -> str:
    parts = urlsplit(target)
    if kind == "http":
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http monitor's target must be an http:// or https:// URL with a host")
    elif kind == "tcp":
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme != "tcp" or not parts.hostname or not port:
            raise ValueError("a tcp monitor's target must look like tcp://host:port")
    return target


class MonitorFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    kind: Literal["http", "tcp"] = "http"
    target: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    interval_s: int = Field(default=60, ge=MIN_INTERVAL_SECONDS, le=MAX_INTERVAL_SECONDS)
    timeout_ms: int = Field(default=10_000, ge=100, le=120_000)
    regions: list[RegionName] = Field(default_factory=lambda: ["local"], min_length=1, max_length=16)
    expectations: Expectations = Field(default_factory=Expectations)
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    enabled: bool = True
    slo_target: float = Field(default=99.9, gt=0, lt=100, description="percent of good slots")
    region_quorum: int = Field(default=1, ge=1, description="regions that must see it down for a down slot")

    @field_validator("regions")
    @classmethod
    def _unique_regions(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("regions must not repeat")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> MonitorFields:
        validate_target(self.kind, self.target)
        if self.timeout_ms > self.interval_s * 1000:
            raise ValueError("timeout_ms must not exceed the interval")
        if self.region_quorum > len(self.regions):
            raise ValueError("region_quorum must not exceed the number of regions")
        return self


class MonitorCreate(MonitorFields):
    pass


class MonitorUpdate(BaseModel):
    """Any subset of a monitor's fields; the merged result is validated as a whole."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    kind: str | None = None
    target: str | None = None
    interval_s: int | None = None
    timeout_ms: int | None = None
    regions: list[str] | None = None
    expectations: dict[str, Any] | None = None
    tags: list[str] | None = None
    enabled: bool | None = None
    slo_target: float | None = None
    region_quorum: int | None = None


class MonitorRead(BaseModel):
    id: int
    name: str
    kind: str
    target: str
    interval_s: int
    timeout_ms: int
    regions: list[str]
    expectations: dict[str, Any]
    tags: list[str]
    enabled: bool
    slo_target: float
    region_quorum: int
    created_at: datetime
    updated_at: datetime


class ResultRead(BaseModel):
    time: datetime
    region: str
    up: bool
    error_kind: str | None
    status_code: int | None
    latency_ms: float
    connect_ms: float
    ttfb_ms: float
    lateness_ms: int
    attempts: int
