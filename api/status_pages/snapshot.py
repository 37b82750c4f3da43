"""What a status page shows, read in one pass: per monitor the current status, 90 daily
uptime bars, uptime over 24 h, 7, 30 and 90 days and an hourly response-time series; the
incidents the team posted; ongoing and upcoming maintenance.

Figures come from the stores the stats API reads: finished days from the daily rollups,
the days not rolled yet and the last 24 hours from the window functions (aggregator.windows:
rollups plus raw rows for the open part), the current status from the slot rule
(vigil_slots). 7, 30 and 90 days are that many UTC days up to today, the days the bars
show, so the figures and the bars always agree. Slots inside maintenance count as checked
(the stats API's excluded_slots is not applied here).

The result holds only what the public may see: display names, never the monitor's own
name, regions or target (unless the page shows it, with credentials masked)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from aggregator.windows import window_stats
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


async def current_slots(conn: AsyncConnection, ids: list[int], now: datetime, longest_s: int) -> dict[int, dict]:
    """Each monitor's newest slot within STALE_INTERVALS of the longest interval (judged per
    monitor by ``status``). Never prepared: a generic plan would not know which chunks the
    range covers and would probe every chunk's index."""
    interval = timedelta(seconds=longest_s)
    cur = await conn.execute(sql("status_current"), {"ids": ids, "from": now - STALE_INTERVALS * interval,
                                                     "to": now + interval}, prepare=False)
    return {r["monitor_id"]: r for r in await cur.fetchall()}


def uptime_pct(up: int, down: int) -> float | None:
    return round(100 * up / (up + down), 3) if up + down else None


async def _days(conn: AsyncConnection, ids: list[int], today: datetime, now: datetime) -> dict[int, dict]:
    """{monitor: {day: (up, down, slots)}} for the DAYS days up to today: rolled-up days from
    rollup_1d, the rest (usually today alone) from the window functions."""
    first = today - (DAYS - 1) * DAY
    out: dict[int, dict] = defaultdict(dict)
    for r in await (await conn.execute(sql("status_days"), {"ids": ids, "from": first, "to": today + DAY})).fetchall():
        out[r["monitor_id"]][r["bucket"]] = (r["up_slots"], r["down_slots"], r["slots"])
    rolled = (await (await conn.execute(sql("status_days_rolled_until"))).fetchone() or {}).get("rolled_until")
    # Without any rolled day yet (an aggregator that never ran), only today and yesterday are
    # read from the window functions: ninety of them would make one answer slow.
    day = max(first, floor_day(rolled) if rolled else today - DAY)
    while day <= today:
        for s in await window_stats(conn, ids, day, min(day + DAY, now)):
            out[s["monitor_id"]][day] = (s["up_slots"], s["down_slots"], s["slots"])
        day += DAY
    return out


def _bars(days: dict, today: datetime, interval_s: int) -> list[dict[str, Any]]:
    """One bar per day, oldest first; a bar's up and down slots stay in "_counts"."""
    bars = []
    for i in range(DAYS - 1, -1, -1):
        day = today - i * DAY
        up, down, slots = days.get(day, (0, 0, 0))
        bars.append({"date": day.date().isoformat(), "uptime_pct": uptime_pct(up, down),
                     "down_s": down * interval_s, "slots": slots, "_counts": (up, down)})
    return bars


def _uptimes(bars: list[dict[str, Any]], day24: dict | None) -> dict[str, float | None]:
    """Uptime over the last 24 h, and over the last 7, 30 and 90 bars (days up to today)."""
    out = {"24h": None if day24 is None or day24["uptime"] is None else round(100 * day24["uptime"], 3)}
    counts = [b.pop("_counts") for b in bars]
    for name, n in UPTIME_DAYS.items():
        out[name] = uptime_pct(sum(c[0] for c in counts[-n:]), sum(c[1] for c in counts[-n:]))
    return out


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


async def page_snapshot(pool: AsyncConnectionPool, page: dict[str, Any], now: datetime | None = None,
                        ) -> dict[str, Any]:
    """The public content of ``page`` (a row of status_page_by_*) as a JSON-ready dict."""
    now = now or datetime.now(UTC)
    today = floor_day(now)
    async with reading(pool) as conn:
        layout = await (await conn.execute(sql("status_page_layout"), {"page_id": page["id"]})).fetchall()
        ids = sorted({r["monitor_id"] for r in layout if r["monitor_id"] is not None})
        account = {"account_id": page["account_id"], "ids": ids}
        longest = max((r["interval_s"] for r in layout if r["monitor_id"] is not None), default=60)
        current = await current_slots(conn, ids, now, longest)
        days = await _days(conn, ids, today, now) if ids else {}
        day24 = {s["monitor_id"]: s for s in await window_stats(conn, ids, now - DAY, now)} if ids else {}
        latency: dict[int, list] = defaultdict(list)
        for r in await (await conn.execute(sql("status_hourly_latency"), {
                "ids": ids, "from": now.replace(minute=0, second=0, microsecond=0) - CHART_HOURS * HOUR,
                "to": now})).fetchall():
            latency[r["monitor_id"]].append({"time": r["bucket"], "p50_ms": ms(r["p50_us"]),
                                             "p95_ms": ms(r["p95_us"])})
        incidents = await (await conn.execute(sql("status_page_incidents"), {
            **account, "since": now - RESOLVED_SHOWN, "limit": MAX_INCIDENTS})).fetchall()
        maintenance = await (await conn.execute(sql("status_page_maintenance"), {
            **account, "from": now, "to": now + MAINTENANCE_AHEAD, "limit": MAX_MAINTENANCE})).fetchall()

    shown = {r["monitor_id"]: r["display_name"] for r in layout if r["monitor_id"] is not None}
    under_maintenance = {m for w in maintenance if w["starts_at"] <= now
                         for m in ([w["monitor_id"]] if w["monitor_id"] else ids)}
    sections: list[dict[str, Any]] = []
    for r in layout:
        if not sections or sections[-1]["_id"] != r["section_id"]:
            sections.append({"_id": r["section_id"], "name": r["section_name"], "monitors": []})
        if r["monitor_id"] is None:
            continue
        mid, interval = r["monitor_id"], r["interval_s"]
        bars = _bars(days.get(mid, {}), today, interval)
        sections[-1]["monitors"].append({
            "name": r["display_name"], "key": r["key"],
            "status": _status(current.get(mid), now, interval, mid in under_maintenance),
            "last_checked": current[mid]["slot"] if mid in current else None,
            "target": mask_url(r["target"]) if r["show_target"] else None,
            "badges": r["badges"] and page["visibility"] == "public",
            "uptime_pct": _uptimes(bars, day24.get(mid)), "days": bars, "latency": latency.get(mid, [])})
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
