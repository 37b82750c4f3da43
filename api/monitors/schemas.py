"""Monitor schemas in threes: Create (what a client sends), Update (any subset), Read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.textguard import refuse_nul
from ingest.checks.dns import DnsOptions, resolver_address
from ingest.checks.dns import parse_target as dns_target
from ingest.checks.heartbeat import HeartbeatOptions
from ingest.checks.http import HttpOptions
from ingest.checks.tcp import TcpOptions, host_port
from ingest.checks.tls import DEFAULT_PORT as TLS_DEFAULT_PORT
from ingest.checks.tls import TlsOptions
from vigil.constants import MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS, MONITOR_KINDS
from vigil.netguard import default_port, valid_port

RegionName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64)]


# What makes a check 'up', beyond the kind's default, and how it is made: each kind's own
# options (defined beside its check in ingest/checks/), chosen by the monitor's kind.
Expectations = Annotated[
    HttpOptions | TcpOptions | DnsOptions | TlsOptions | HeartbeatOptions,
    Field(discriminator="kind"),
]


def validate_target(kind: str, target: str) -> str:
    """The target's form for its kind; ValueError with a message saying the right form."""
    if kind == "http":
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http monitor's target must be an http:// or https:// URL with a host")
        if not valid_port(parts):
            raise ValueError("an http monitor's target port must be a number from 1 to 65535")
    elif kind == "tcp":
        host_port(target, "tcp")
    elif kind == "tls":
        host_port(target, "tls", TLS_DEFAULT_PORT)
    elif kind == "dns":
        dns_target(target)
    elif kind == "heartbeat" and not target.startswith("heartbeat://"):
        raise ValueError("a heartbeat monitor's target must start with heartbeat:// (e.g. heartbeat://nightly-backup)")
    return target


def destinations(kind: str, target: str, expectations: Any) -> list[tuple[str, int]]:
    """The (host, port) pairs a monitor's check connects to, for the address guard."""
    if kind == "http":
        parts = urlsplit(target)
        return [(parts.hostname or "", default_port(parts))]
    if kind == "tcp":
        return [host_port(target, "tcp")]
    if kind == "tls":
        return [host_port(target, "tls", TLS_DEFAULT_PORT)]
    if kind == "dns" and getattr(expectations, "resolver", None):
        return [resolver_address(expectations.resolver)]
    return []


class MonitorFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    kind: Literal[MONITOR_KINDS] = "http"  # type: ignore[valid-type]
    target: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    interval_s: int = Field(default=60, ge=MIN_INTERVAL_SECONDS, le=MAX_INTERVAL_SECONDS)
    timeout_ms: int = Field(default=10_000, ge=100, le=120_000)
    regions: list[RegionName] = Field(default_factory=lambda: ["local"], min_length=1, max_length=16)
    # Optional for clients: the validator below fills in {} of the monitor's kind.
    expectations: Expectations = Field(default_factory=HttpOptions)
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    enabled: bool = True
    slo_target: float = Field(default=99.9, gt=0, lt=100, description="percent of good slots")
    region_quorum: int = Field(default=1, ge=1, description="regions that must see it down for a down slot")

    @model_validator(mode="before")
    @classmethod
    def _expectations_of_kind(cls, data: Any) -> Any:
        """The expectations are validated as the options of the monitor's kind."""
        refuse_nul(data)
        if isinstance(data, dict):
            expectations = data.get("expectations", {})
            if isinstance(expectations, dict):
                data = {**data, "expectations": {**expectations, "kind": data.get("kind", "http")}}
        return data

    @field_validator("target")
    @classmethod
    def _target_of_kind(cls, v: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        return validate_target(kind, v) if kind else v

    @field_validator("regions")
    @classmethod
    def _unique_regions(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("regions must not repeat")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> MonitorFields:
        if self.timeout_ms > self.interval_s * 1000:
            raise ValueError("timeout_ms must not exceed the interval")
        if self.region_quorum > len(self.regions):
            raise ValueError("region_quorum must not exceed the number of regions")
        return self

    @field_validator("slo_target")
    @classmethod
    def _slo_as_stored(cls, v: float) -> float:
        """Stored with 3 decimals (numeric(6,3)): 99.9999 would become 100, which no SLO can be."""
        if not 0 < round(v, 3) < 100:
            raise ValueError("slo_target must be above 0 and below 100 at 3 decimals (0.001 to 99.999)")
        return round(v, 3)


class MonitorCreate(MonitorFields):
    pass


class MonitorUpdate(BaseModel):
    """Any subset of a monitor's fields; the merged result is validated as a whole."""

    model_config = ConfigDict(extra="forbid")

    _no_nul = model_validator(mode="before")(classmethod(lambda cls, data: refuse_nul(data)))

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
