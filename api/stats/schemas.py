"""Read schemas of the stats API. Latencies are milliseconds; uptime and budgets percent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

SlotStatus = Literal["up", "down", "missed"]


COVERED = ("the part of the window the figures cover: equal to from/to unless retention "
           "already dropped data the window reaches (see the docs on retention)")


class Read(BaseModel):
    """Windows serialise as "from"/"to" like the query parameters (start/end inside, since
    "from" is a Python keyword). The aliases put "from"/"to" in the OpenAPI document; the
    models are dumped without aliases, hence the serializer."""

    model_config = ConfigDict(populate_by_name=True)

    @model_serializer(mode="wrap")
    def _window_keys(self, handler: SerializerFunctionWrapHandler) -> dict:
        out = handler(self)
        if "start" in out:
            out["from"], out["to"] = out.pop("start"), out.pop("end")
        return out


class Latency(Read):
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p99_9: float | None = None
    min: float | None = None
    max: float | None = None
    mean: float | None = None


class SlotCounts(Read):
    slots: int = Field(0, description="slots with any result, including missed ones")
    up_slots: int = 0
    down_slots: int = 0
    missed_slots: int = Field(0, description="slots no quorum of regions could decide; not in uptime")
    uptime_pct: float | None = Field(None, description="up / (up + down) slots; null without any")


class MonitorStats(SlotCounts):
    monitor_id: int
    excluded_slots: int = Field(0, description="slots inside maintenance windows: left out of the "
                                "slot counts, uptime and error budget")
    checks: int = 0
    slo_target: float | None = None
    error_budget_remaining_pct: float | None = Field(
        None, description="100 = no downtime yet; 0 = budget spent; negative = SLO missed")
    latency_ms: Latency = Field(default_factory=Latency)


class StatsRead(MonitorStats):
    start: datetime = Field(alias="from", description="the window's start")
    end: datetime = Field(alias="to", description="the window's end")
    covered_from: datetime = Field(description=COVERED)
    covered_to: datetime = Field(description=COVERED)
    region: str | None = None


class GroupStatsRead(StatsRead):
    monitor_id: None = None  # type: ignore[assignment]
    tag: str
    monitor_ids: list[int]
    monitors: list[MonitorStats] = Field(description="the same figures for each monitor of the group")


class MonitorWindow(Read):
    """The window one monitor's answer covers."""

    monitor_id: int
    start: datetime = Field(alias="from", description="the window's start")
    end: datetime = Field(alias="to", description="the window's end")
    covered_from: datetime = Field(description=COVERED)
    covered_to: datetime = Field(description=COVERED)


class RegionStats(SlotCounts):
    region: str
    excluded_slots: int = Field(0, description="slots inside maintenance windows, left out of the counts")
    checks: int = 0
    latency_ms: Latency = Field(default_factory=Latency)


class RegionsRead(MonitorWindow):
    regions: list[RegionStats]


class SeriesPoint(SlotCounts):
    time: datetime
    latency_mean_ms: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None


class SeriesRead(MonitorWindow):
    region: str | None = None
    resolution: Literal["raw", "1h", "1d"]
    step_s: int
    points: list[SeriesPoint]


class RecentSlot(Read):
    time: datetime
    status: SlotStatus
    latency_ms: float | None = None


class StatusRead(Read):
    monitor_id: int
    region: str | None = None
    status: Literal["up", "down", "missed", "unknown"]
    since: datetime | None = Field(None, description="first slot of the current run of this status")
    since_is_lower_bound: bool = Field(
        False, description="true when the run goes back beyond the lookback: it began at or before since")
    last_slot: datetime | None = None
    recent: list[RecentSlot] = Field(description="the newest slots, newest first (for a sparkline)")


class Downtime(Read):
    started_at: datetime
    ended_at: datetime
    duration_s: float
    down_slots: int
    ongoing: bool = Field(description="still down at the end of the window")


class DowntimesRead(MonitorWindow):
    region: str | None = None
    downtime_s: float
    periods: list[Downtime]
