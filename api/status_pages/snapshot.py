"""What a status page shows, read in one pass: per monitor the current status, 90 daily
uptime bars, uptime over 24 h, 7, 30 and 90 days and an hourly response-time series; the
incidents the team posted; ongoing and upcoming maintenance.

Figures come from the stores the stats API reads: finished days from the daily rollups,
the days not rolled yet and the last 24 hours from the parts the window functions read
(clean rolled hours, raw slots for the rest), slot counts only, for all monitors in one
statement (status_figures); the current status from the slot rule (vigil_slots). 7, 30 and
90 days are that many UTC days up to today, the days the bars show, so the figures and the
bars always agree. Slots inside maintenance count as checked
(the stats API's excluded_slots is not applied here).

The result holds only what the public may see: display names, never the monitor's own
name, regions or target (unless the page shows it, with credentials masked)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.stats.figures import ms
from api.stats.service import STALE_INTERVALS, reading
from vigil.masking import mask_url
from vigil.queries import sql

DAYS = 90
UPTIME_DAYS = {"7d": 7, "30d": 30, "90d": 90}
CHART_HOURS = 24
RESOLVED_SHOWN = timedelta(days=14)  # resolved incidents stay on the page this long
MAINTENANCE_AHEAD = timedelta(days=14)
MAX_INCIDENTS = 20
MAX_MAINTENANCE = 20
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def floor_day(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _current_params(ids: list[int], now: datetime, longest_s: int) -> dict[str, Any]:
    interval = timedelta(seconds=longest_s)
    return {"ids": ids, "from": now - STALE_INTERVALS * interval, "to": now + interval}


async def current_slots(conn: AsyncConnection, ids: list[int], now: datetime, longest_s: int) -> dict[int, dict]:
    """Each monitor's newest slot within STALE_INTERVALS of the longest interval (judged per
    monitor by ``status``). Never prepared: a generic plan would not know which chunks the
    range covers and would probe every chunk's index."""
    cur = await conn.execute(sql("status_current"), _current_params(ids, now, longest_s), prepare=False)
    return {r["monitor_id"]: r for r in await cur.fetchall()}


@lru_cache(maxsize=4096)
def uptime_pct(up: int, down: int) -> float | None:
    """Cached: most of a page's 1,800 days have the same counts."""
    return round(100 * up / (up + down), 3) if up + down else None


class Figures(NamedTuple):
    """A monitor's slot counts per day (DAYS days up to today, oldest first) and over the
    last 24 hours."""
    up: list[int]
    down: list[int]
    slots: list[int]
    up_24h: int
    down_24h: int


def _figure_params(ids: list[int], today: datetime, now: datetime) -> dict[str, Any]:
    return {"ids": ids, "first": today - (DAYS - 1) * DAY, "today": today, "now": now, "since": now - DAY}


def _figures(rows: list[dict[str, Any]]) -> dict[int, Figures]:
    out = {}
    for r in rows:
        up, down, slots = [0] * DAYS, [0] * DAYS, [0] * DAYS
        for i, u, d, n in zip(r["day_index"] or (), r["up"] or (), r["down"] or (), r["slots"] or (), strict=True):
            up[i], down[i], slots[i] = u, d, n
        out[r["monitor_id"]] = Figures(up, down, slots, r["up_24h"], r["down_24h"])
    return out


async def slot_figures(conn: AsyncConnection, ids: list[int], today: datetime, now: datetime) -> dict[int, Figures]:
    """Every monitor's figures in two statements (sql/queries/status.sql): the bounds of each
    part, then the counts, planned with those bounds (never prepared: a generic plan would
    not know which chunks they cover)."""
    params = _figure_params(ids, today, now)
    params |= await (await conn.execute(sql("status_figure_bounds"), params)).fetchone()
    return _figures(await (await conn.execute(sql("status_figures"), params, prepare=False)).fetchall())


def _dates(today: datetime) -> list[str]:
    return [(today - i * DAY).date().isoformat() for i in range(DAYS - 1, -1, -1)]


def _bars(f: Figures | None, dates: list[str], interval_s: int) -> list[dict[str, Any]]:
    """One bar per day, oldest first."""
    if f is None:
        return [{"date": d, "uptime_pct": None, "down_s": 0, "slots": 0} for d in dates]
    return [{"date": d, "uptime_pct": uptime_pct(u, dn), "down_s": dn * interval_s, "slots": n}
            for d, u, dn, n in zip(dates, f.up, f.down, f.slots, strict=True)]


def _uptimes(f: Figures | None) -> dict[str, float | None]:
    """Uptime over the last 24 h, and over the last 7, 30 and 90 bars (days up to today)."""
    if f is None:
        return {"24h": None, **dict.fromkeys(UPTIME_DAYS)}
    return {"24h": uptime_pct(f.up_24h, f.down_24h),
            **{name: uptime_pct(sum(f.up[-n:]), sum(f.down[-n:])) for name, n in UPTIME_DAYS.items()}}


def _status(current: dict | None, now: datetime, interval_s: int, in_maintenance: bool) -> str:
    if in_maintenance:
        return "maintenance"
    if current is None or current["slot"] < now - STALE_INTERVALS * timedelta(seconds=interval_s):
        return "unknown"
    return current["status"]  # up, down or missed


def overall(statuses: list[str]) -> str:
    known = [s for s in statuses if s in ("up", "down")]
    if known and all(s == "down" for s in known):
        return "major_outage"
    if "down" in known:
        return "partial_outage"
    if "maintenance" in statuses:
        return "maintenance"
    return "operational" if known else "unknown"


def _names(ids: list[int], shown: dict[int, str]) -> list[str]:
    return [shown[i] for i in ids if i in shown]


def after_layout(page: dict[str, Any], layout: list[dict[str, Any]], now: datetime,
                 ) -> list[tuple[str, dict[str, Any], bool | None]]:
    """The statements a snapshot runs once it has the page's layout, in this order: (query
    name, parameters, prepare). status_figures follows with status_figure_bounds' answer
    added to that statement's parameters."""
    ids = sorted({r["monitor_id"] for r in layout if r["monitor_id"] is not None})
    longest = max((r["interval_s"] for r in layout if r["monitor_id"] is not None), default=60)
    account = {"account_id": page["account_id"], "ids": ids}
    return [("status_current", _current_params(ids, now, longest), False),
            ("status_figure_bounds", _figure_params(ids, floor_day(now), now), None),
            ("status_hourly_latency", {"ids": ids, "to": now, "from": now.replace(
                minute=0, second=0, microsecond=0) - CHART_HOURS * HOUR}, None),
            ("status_page_incidents", {**account, "since": now - RESOLVED_SHOWN, "limit": MAX_INCIDENTS}, None),
            ("status_page_maintenance", {**account, "from": now, "to": now + MAINTENANCE_AHEAD,
                                         "limit": MAX_MAINTENANCE}, None)]


async def page_snapshot(pool: AsyncConnectionPool, page: dict[str, Any], now: datetime | None = None,
                        ) -> dict[str, Any]:
    """The public content of ``page`` (a row of status_page_by_*) as a JSON-ready dict."""
    now = now or datetime.now(UTC)
    today = floor_day(now)
    async with reading(pool) as conn:
        layout = await (await conn.execute(sql("status_page_layout"), {"page_id": page["id"]})).fetchall()
        ids = sorted({r["monitor_id"] for r in layout if r["monitor_id"] is not None})
        # The statements that need only the layout go in one round trip; then the figures,
        # which need the bounds (as slot_figures reads them).
        statements = after_layout(page, layout, now)
        async with conn.pipeline():
            cursors = [await conn.execute(sql(name), params, prepare=prepare) for name, params, prepare in statements]
        current_rows, bounds, hourly, incidents, maintenance = [await c.fetchall() for c in cursors]
        figures = _figures(await (await conn.execute(sql("status_figures"), statements[1][1] | bounds[0],
                                                     prepare=False)).fetchall()) if ids else {}
    current = {r["monitor_id"]: r for r in current_rows}
    latency: dict[int, list] = defaultdict(list)
    for r in hourly:
        latency[r["monitor_id"]].append({"time": r["bucket"], "p50_ms": ms(r["p50_us"]), "p95_ms": ms(r["p95_us"])})

    shown = {r["monitor_id"]: r["display_name"] for r in layout if r["monitor_id"] is not None}
    under_maintenance = {m for w in maintenance if w["starts_at"] <= now
                         for m in ([w["monitor_id"]] if w["monitor_id"] else ids)}
    sections: list[dict[str, Any]] = []
    dates = _dates(today)
    for r in layout:
        if not sections or sections[-1]["_id"] != r["section_id"]:
            sections.append({"_id": r["section_id"], "name": r["section_name"], "monitors": []})
        if r["monitor_id"] is None:
            continue
        mid, interval = r["monitor_id"], r["interval_s"]
        sections[-1]["monitors"].append({
            "name": r["display_name"], "key": r["key"],
            "status": _status(current.get(mid), now, interval, mid in under_maintenance),
            "last_checked": current[mid]["slot"] if mid in current else None,
            "target": mask_url(r["target"]) if r["show_target"] else None,
            "badges": r["badges"] and page["visibility"] == "public",
            "uptime_pct": _uptimes(figures.get(mid)), "days": _bars(figures.get(mid), dates, interval),
            "latency": latency.get(mid, [])})
    for s in sections:
        del s["_id"]
    statuses = [m["status"] for s in sections for m in s["monitors"]]
    return {
        "title": page["title"], "description": page["description"], "generated_at": now,
        "status": overall(statuses), "sections": sections,
        "incidents": [{"id": i["id"], "title": i["title"], "impact": i["impact"], "status": i["status"],
                       "created_at": i["created_at"], "updated_at": i["updated_at"], "resolved_at": i["resolved_at"],
                       "affects": _names(i["monitor_ids"], shown),
                       "updates": [{**u, "created_at": datetime.fromisoformat(u["created_at"])} for u in i["updates"]]}
                      for i in incidents],
        "maintenance": [{"starts_at": w["starts_at"], "ends_at": w["ends_at"], "ongoing": w["starts_at"] <= now,
                         "affects": _names([w["monitor_id"]], shown) if w["monitor_id"] else "all"}
                        for w in maintenance],
    }
