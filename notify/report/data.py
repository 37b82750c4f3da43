"""The weekly report's figures for one account: set-based queries over all its monitors.

Window totals come from the window functions (vigil_window_stats: rollups plus raw rows
not rolled yet), less the slots inside maintenance windows; incidents from the alert tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from aggregator.histogram import ms
from notify.report.schedule import previous_week, week_bounds
from vigil.queries import sql


@dataclass
class MonitorWeek:
    id: int
    name: str
    target: str
    slo_target: float
    interval_s: int
    up_slots: int = 0
    down_slots: int = 0
    missed_slots: int = 0
    excluded_slots: int = 0  # inside maintenance windows: in none of the counts above
    p95_ms: float | None = None
    p99_ms: float | None = None
    prev_p95_ms: float | None = None
    prev_p99_ms: float | None = None
    incidents: int = 0
    hourly: list[dict[str, Any]] = field(default_factory=list)

    @property
    def downtime_s(self) -> int:
        """Down slots times the interval: the time the uptime figure counts as down."""
        return self.down_slots * self.interval_s

    @property
    def uptime(self) -> float | None:
        judged = self.up_slots + self.down_slots
        return 100.0 * self.up_slots / judged if judged else None

    @property
    def budget_left(self) -> float | None:
        """Percent of the week's error budget (allowed down slots under the SLO) not spent."""
        judged = self.up_slots + self.down_slots
        if not judged:
            return None
        allowed = (1 - self.slo_target / 100.0) * judged
        return 100.0 * (1 - self.down_slots / allowed)

    @property
    def slo_met(self) -> bool | None:
        return None if self.uptime is None else self.uptime >= self.slo_target


@dataclass
class Report:
    account: str
    week: str
    start: datetime
    end: datetime
    monitors: list[MonitorWeek]


async def _rows(conn: AsyncConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(sql(name), params)
    return await cur.fetchall()


async def window_stats(conn: AsyncConnection, ids: list[int], from_ts: datetime,
                       to_ts: datetime) -> dict[int, dict[str, Any]]:
    rows = await _rows(conn, "report_window_stats", {"ids": ids, "from_ts": from_ts, "to_ts": to_ts})
    return {r["monitor_id"]: r for r in rows}


async def incident_counts(conn: AsyncConnection, window: dict[str, Any]) -> dict[int, int]:
    return {r["monitor_id"]: r["incidents"] for r in await _rows(conn, "report_incident_counts", window)}


async def build_report(conn: AsyncConnection, account_id: int, account: str, week: str, tz: str) -> Report:
    start, end = week_bounds(week, tz)
    prev_start, prev_end = week_bounds(previous_week(week), tz)
    monitors = [MonitorWeek(id=r["id"], name=r["name"], target=r["target"], slo_target=r["slo_target"],
                            interval_s=r["interval_s"])
                for r in await _rows(conn, "report_monitors", {"account_id": account_id})]
    ids = [m.id for m in monitors]
    now = await window_stats(conn, ids, start, end)
    before = await window_stats(conn, ids, prev_start, prev_end)
    window = {"ids": ids, "from_ts": start, "to_ts": end}
    incidents = await incident_counts(conn, window)
    hourly: dict[int, list[dict[str, Any]]] = {}
    for r in await _rows(conn, "report_hourly", window):
        hourly.setdefault(r["monitor_id"], []).append(r)
    for m in monitors:
        cur, prev = now.get(m.id, {}), before.get(m.id, {})
        m.up_slots, m.down_slots = cur.get("up_slots", 0), cur.get("down_slots", 0)
        m.missed_slots, m.excluded_slots = cur.get("missed_slots", 0), cur.get("excluded_slots", 0)
        m.p95_ms, m.p99_ms = ms(cur.get("p95_us")), ms(cur.get("p99_us"))
        m.prev_p95_ms, m.prev_p99_ms = ms(prev.get("p95_us")), ms(prev.get("p99_us"))
        m.incidents = incidents.get(m.id, 0)
        m.hourly = hourly.get(m.id, [])
    return Report(account=account, week=week, start=start, end=end, monitors=monitors)
