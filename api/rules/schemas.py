"""Alert rule schemas. The condition is a tagged union on `kind`, so an error names the
field inside it (e.g. `condition.latency.threshold_ms`). A rule targets one monitor
(`monitor_id`), every monitor carrying a tag (`tag`), or, with neither, every monitor of
the account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Severity = Literal["critical", "warning", "info"]


class _Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DownCondition(_Condition):
    kind: Literal["down"]
    failures: int = Field(default=3, ge=1, le=100, description="failed slots in a row before firing")
    quorum: int | None = Field(default=None, ge=1, le=16,
                               description="regions that must see a slot down; default the monitor's region_quorum")


class LatencyCondition(_Condition):
    kind: Literal["latency"]
    percentile: float = Field(default=95, gt=0, lt=100)
    window_s: int = Field(default=300, ge=60, le=90 * 86400)
    threshold_ms: float = Field(gt=0, le=600_000)
    min_checks: int = Field(default=3, ge=1, description="fewer up results in the window decide nothing")


class UptimeCondition(_Condition):
    kind: Literal["uptime"]
    window_s: int = Field(default=86400, ge=60, le=90 * 86400)
    target_pct: float = Field(gt=0, le=100)
    min_slots: int = Field(default=1, ge=1)


class TlsExpiryCondition(_Condition):
    kind: Literal["tls_expiry"]
    days: int = Field(default=14, ge=1, le=365)


class HeartbeatCondition(_Condition):
    kind: Literal["heartbeat"]
    grace_s: int = Field(default=60, ge=0, le=86400, description="allowed lateness beyond the monitor's interval")


class BurnWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    long_s: int = Field(ge=300, le=30 * 86400)
    short_s: int = Field(ge=60, le=30 * 86400)
    factor: float = Field(gt=0, le=1000)

    @model_validator(mode="after")
    def _short_is_shorter(self) -> BurnWindow:
        if self.short_s >= self.long_s:
            raise ValueError("short_s must be shorter than long_s")
        return self


# Google SRE workbook, chapter "Alerting on SLOs", for a 30-day SLO period.
DEFAULT_BURN_WINDOWS = [BurnWindow(long_s=3600, short_s=300, factor=14.4),
                        BurnWindow(long_s=21600, short_s=1800, factor=6),
                        BurnWindow(long_s=259200, short_s=21600, factor=1)]


class SloBurnRateCondition(_Condition):
    kind: Literal["slo_burn_rate"]
    windows: list[BurnWindow] = Field(default_factory=lambda: list(DEFAULT_BURN_WINDOWS), min_length=1, max_length=6)


Condition = Annotated[DownCondition | LatencyCondition | UptimeCondition | TlsExpiryCondition
                      | HeartbeatCondition | SloBurnRateCondition, Field(discriminator="kind")]


class RuleFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    condition: Condition
    monitor_id: int | None = Field(default=None, ge=1)
    tag: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    severity: Severity = "critical"
    channel_ids: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, max_length=20)
    renotify_s: int = Field(default=0, ge=0, le=7 * 86400, description="re-notify while firing; 0 = never")
    recovery_slots: int = Field(default=1, ge=1, le=1000, description="good slots (down) or evaluations before resolving")
    pending_s: int = Field(default=0, ge=0, le=86400, description="how long the condition must hold before firing")
    enabled: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> RuleFields:
        if self.monitor_id is not None and self.tag is not None:
            raise ValueError("give monitor_id or tag, not both")
        if 0 < self.renotify_s < 60:
            raise ValueError("renotify_s must be 0 or at least 60")
        if len(set(self.channel_ids)) != len(self.channel_ids):
            raise ValueError("channel_ids must not repeat")
        return self


class RuleCreate(RuleFields):
    pass


class RuleUpdate(BaseModel):
    """Any subset of a rule's fields; the merged rule is validated as a whole."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    condition: dict | None = None
    monitor_id: int | None = None
    tag: str | None = None
    severity: str | None = None
    channel_ids: list[int] | None = None
    renotify_s: int | None = None
    recovery_slots: int | None = None
    pending_s: int | None = None
    enabled: bool | None = None


class RuleRead(RuleFields):
    model_config = ConfigDict(extra="ignore")

    id: int
    created_at: datetime
    updated_at: datetime
