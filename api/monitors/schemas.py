"""Monitor schemas in threes: Create (what a client sends), Update (any subset), Read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

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
from ingest.checks import KINDS
from vigil.constants import MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS

RegionName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64)]

# Everything about a kind comes from its module in ingest/checks/, through the registry.
KindName = KINDS.names_literal()
# What makes a check 'up', beyond the kind's default, and how it is made: each kind's own
# options, chosen by the monitor's kind.
Expectations = KINDS.options_union()
TIMEOUTS = KINDS.timeout_envelope()
# Said in the document only where it is so: the bounds above are then the widest of any kind.
TIMEOUTS_VARY = "per try; the default and bounds are the monitor's kind's (see `vigil check --help`)"


class MonitorFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    kind: KindName = KINDS.default.name  # type: ignore[valid-type]
    target: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    interval_s: int = Field(default=60, ge=MIN_INTERVAL_SECONDS, le=MAX_INTERVAL_SECONDS)
    timeout_ms: int = Field(default=TIMEOUTS.default_ms, ge=TIMEOUTS.min_ms, le=TIMEOUTS.max_ms,
                            description=TIMEOUTS_VARY if len({k.timeouts for k in KINDS.values()}) > 1 else None)
    regions: list[RegionName] = Field(default_factory=lambda: ["local"], min_length=1, max_length=16)
    # Optional for clients: the validator below fills in {} of the monitor's kind.
    expectations: Expectations = Field(default_factory=KINDS.default.options)  # type: ignore[valid-type]
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    enabled: bool = True
    slo_target: float = Field(default=99.9, gt=0, lt=100, description="percent of good slots")
    region_quorum: int = Field(default=1, ge=1, description="regions that must see it down for a down slot")

    @model_validator(mode="before")
    @classmethod
    def _of_kind(cls, data: Any) -> Any:
        """The expectations are validated as the options of the monitor's kind, and an
        absent timeout is the kind's default."""
        refuse_nul(data)
        if isinstance(data, dict):
            name = data.get("kind", KINDS.default.name)
            expectations = data.get("expectations", {})
            if isinstance(expectations, dict):
                data = {**data, "expectations": {**expectations, "kind": name}}
            if "timeout_ms" not in data and isinstance(name, str) and name in KINDS:
                data = {**data, "timeout_ms": KINDS[name].timeouts.default_ms}
        return data

    @field_validator("target")
    @classmethod
    def _target_of_kind(cls, v: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind:
            KINDS[kind].parse_target(v)
        return v

    @field_validator("timeout_ms")
    @classmethod
    def _timeout_of_kind(cls, v: int, info: ValidationInfo) -> int:
        kind = info.data.get("kind")
        bounds = KINDS[kind].timeouts if kind else TIMEOUTS
        if not bounds.min_ms <= v <= bounds.max_ms:
            raise ValueError(f"a {kind} monitor's timeout_ms must be from {bounds.min_ms} to {bounds.max_ms} ms")
        return v

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
