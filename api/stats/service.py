"""Stats queries, scoped to one account: each method checks the monitor belongs to it (404
otherwise), reads window statistics through the window functions (aggregator.windows) or
a named statement of sql/queries/stats.sql, and shapes the figures (api/stats/figures.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from aggregator.histogram import ms
from aggregator.windows import Horizons, covered, window_region_stats, window_stats
from api.errors import NotFound
from api.stats.figures import combine, exclude, figures
from api.stats.window import BadWindow, Window, resolve_resolution
from vigil.queries import sql

# How far back the current status's run is traced (raw results are kept 30 days by default).
STATUS_LOOKBACK = timedelta(days=7)
# A newest slot older than this many intervals means the monitor is not being checked.
STALE_INTERVALS = 3


@asynccontextmanager
async def reading(pool: AsyncConnectionPool) -> AsyncIterator[AsyncConnection]:
    """A pooled connection in autocommit for the duration of one answer: the answers only
    read, and under READ COMMITTED each statement takes its own snapshot inside a
    transaction too, so BEGIN and COMMIT were two round trips buying nothing."""
    async with pool.connection() as conn:
        await conn.set_autocommit(True)
        try:
            yield conn
        finally:
            # Only fails when a cancelled query left the connection busy: the pool then
            # discards it instead of handing it out again.
            with suppress(psycopg.Error):
                await conn.set_autocommit(False)


class StatsService:
    def __init__(self, pool: AsyncConnectionPool, account_id: int) -> None:
        self.pool = pool
        self.account_id = account_id

    def _reading(self):
        return reading(self.pool)

    async def _monitor(self, conn: AsyncConnection, monitor_id: int) -> dict[str, Any]:
        return _only(await self._monitors(conn, [monitor_id]), monitor_id)

    async def _monitors(self, conn: AsyncConnection, monitor_ids: list[int]) -> dict[int, dict[str, Any]]:
        """The account's monitors among monitor_ids (others are left out), by id."""
        cur = await conn.execute(sql("stats_monitors"), {"ids": monitor_ids, "account_id": self.account_id})
        return {r["id"]: r for r in await cur.fetchall()}

    async def _region_id(self, conn: AsyncConnection, region: str | None, configured: list[str]) -> int | None:
        """The id of one of the monitors' own configured regions. Region names are shared by
        every account, so any other name gets the same answer whether or not some other
        account uses it."""
        if region is None:
            return None
        if region not in configured:
            raise BadWindow("region", f"invalid value for region: {region!r} is not one of the monitor's "
                                      f"regions ({', '.join(sorted(configured))})")
        row = await (await conn.execute(sql("stats_region_id"), {"name": region})).fetchone()
        return row["id"] if row else -1  # configured regions are created with the monitor

    async def _per_monitor(self, conn: AsyncConnection, ids: list[int], w: Window,
                           region: str | None, configured: list[str]) -> list[dict[str, Any]]:
        """Window statistics per monitor (or of one region), less the slots inside
        maintenance windows (counted in excluded_slots)."""
        region_id = await self._region_id(conn, region, configured)
        if region_id is None:
            rows = await window_stats(conn, ids, w.start, w.end)
        else:
            rows = [r for r in await window_region_stats(conn, ids, w.start, w.end) if r["region_id"] == region_id]
        cur = await conn.execute(sql("stats_window_excluded"),
                                 {"ids": ids, "from": w.start, "to": w.end, "region_id": region_id})
        return exclude(rows, {r["monitor_id"]: r for r in await cur.fetchall()})

    async def stats(self, monitor_id: int, w: Window, region: str | None) -> dict[str, Any]:
        if region is None:
            return _only(await self.stats_many([monitor_id], w), monitor_id)
        async with self._reading() as conn:
            monitor = await self._monitor(conn, monitor_id)
            rows = await self._per_monitor(conn, [monitor_id], w, region, monitor["regions"])
        return _stats_answer(monitor_id, monitor, w, region, rows)

    async def stats_many(self, monitor_ids: list[int], w: Window) -> dict[int, dict[str, Any]]:
        """stats() over all regions of each of the account's monitors among monitor_ids (the
        others are left out), read together: about the cost of a few single answers."""
        async with self._reading() as conn:
            monitors = await self._monitors(conn, monitor_ids)
            rows = await self._per_monitor(conn, list(monitors), w, None, []) if monitors else []
        by_monitor = {r["monitor_id"]: r for r in rows}
        return {m: _stats_answer(m, monitor, w, None, [by_monitor[m]] if m in by_monitor else [])
                for m, monitor in monitors.items()}

    async def group_stats(self, tag: str, w: Window, region: str | None) -> dict[str, Any]:
        async with self._reading() as conn:
            cur = await conn.execute(sql("stats_monitors_by_tag"), {"account_id": self.account_id, "tag": tag})
            found = await cur.fetchall()
            if not found:
                raise NotFound(f"no monitor tagged {tag!r}")
            slo = {r["id"]: r["slo_target"] for r in found}
            configured = sorted({name for r in found for name in r["regions"]})
            rows = await self._per_monitor(conn, list(slo), w, region, configured)
        monitors = [{**figures(r, {r["monitor_id"]: slo[r["monitor_id"]]}), "monitor_id": r["monitor_id"]}
                    for r in rows]
        return {**figures(combine(rows), slo, rows), "tag": tag, "monitor_ids": list(slo),
                "monitors": monitors, "start": w.start, "end": w.end, "region": region, **_coverage(w, found[0])}

    async def regions(self, monitor_id: int, w: Window) -> dict[str, Any]:
        return _only(await self.regions_many([monitor_id], w), monitor_id)

    async def regions_many(self, monitor_ids: list[int], w: Window) -> dict[int, dict[str, Any]]:
        """regions() of each of the account's monitors among monitor_ids (the others are left
        out), read together."""
        async with self._reading() as conn:
            monitors = await self._monitors(conn, monitor_ids)
            if not monitors:
                return {}
            ids = list(monitors)
            cur = await conn.execute(sql("stats_region_excluded"), {"ids": ids, "from": w.start, "to": w.end})
            excluded: dict[int, dict[int, dict[str, Any]]] = {}
            for r in await cur.fetchall():
                excluded.setdefault(r["monitor_id"], {})[r["region_id"]] = r
            rows: dict[int, list[dict[str, Any]]] = {}
            for r in await window_region_stats(conn, ids, w.start, w.end):
                rows.setdefault(r["monitor_id"], []).append(r)
            names = {r["id"]: r["name"] for r in await (await conn.execute(sql("stats_region_names"))).fetchall()}
        answers = {}
        for m, monitor in monitors.items():
            regions = [{**figures(r), "region": names.get(r["region_id"], str(r["region_id"]))}
                       for r in exclude(rows.get(m, []), excluded.get(m, {}), "region_id")]
            answers[m] = {"monitor_id": m, "start": w.start, "end": w.end, **_coverage(w, monitor),
                          "regions": sorted(regions, key=lambda r: r["region"])}
        return answers

    async def series(self, monitor_id: int, w: Window, region: str | None, resolution: str) -> dict[str, Any]:
        async with self._reading() as conn:
            monitor = await self._monitor(conn, monitor_id)
            name, step = resolve_resolution(resolution, w, monitor["interval_s"])
            region_id = await self._region_id(conn, region, monitor["regions"])
            if name == "raw":
                params = {"monitor_id": monitor_id, "region_id": region_id, "step": step, "from": w.start, "to": w.end}
                points = [_raw_point(r) for r in await (await conn.execute(sql("stats_series_raw"), params)).fetchall()]
            else:
                points = (await _series_points(conn, [monitor_id], region_id, step, w)).get(monitor_id, [])
        return _series_answer(monitor_id, monitor, w, region, name, step, points)

    async def series_many(self, monitor_ids: list[int], w: Window, resolution: str) -> dict[int, dict[str, Any]]:
        """series() over all regions of each of the account's monitors among monitor_ids (the
        others are left out), read together, for a resolution of whole hours or days; a raw
        series (a point per slot of each monitor's own interval) is read one monitor at a
        time, so all are left out."""
        name, step = resolve_resolution(resolution, w, 0)
        if name == "raw":
            return {}
        async with self._reading() as conn:
            monitors = await self._monitors(conn, monitor_ids)
            points = await _series_points(conn, list(monitors), None, step, w) if monitors else {}
        return {m: _series_answer(m, monitor, w, None, name, step, points.get(m, [])) for m, monitor in monitors.items()}

    async def status(self, monitor_id: int, region: str | None, limit: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        async with self._reading() as conn:
            monitor = await self._monitor(conn, monitor_id)
            interval = timedelta(seconds=monitor["interval_s"])
            params = {"monitor_id": monitor_id, "region_id": await self._region_id(conn, region, monitor["regions"]),
                      "to": now + interval}
            recent = await (await conn.execute(sql("stats_recent_slots"), {
                **params, "from": now - interval * (limit + STALE_INTERVALS), "limit": limit},
                prepare=False)).fetchall()
            out = {"monitor_id": monitor_id, "region": region, "status": "unknown", "since": None,
                   "last_slot": None, "since_is_lower_bound": False,
                   "recent": [{**r, "latency_ms": ms(r["latency_us"])} for r in recent]}
            if not recent or recent[0]["time"] < now - interval * STALE_INTERVALS:
                return out
            newest = recent[0]
            lookback = {**params, "from": now - STATUS_LOOKBACK, "status": newest["status"]}
            trace = await (await conn.execute(sql("stats_status_lookback"), lookback)).fetchone()
            # Never prepared: after five runs PostgreSQL would switch to a generic plan, made
            # without knowing how many days of raw rows the trace spans, and that plan took
            # up to 5 s where the plan for the actual range takes ~20 ms.
            row = await (await conn.execute(sql("stats_status_since"), {
                **lookback, "from": trace["trace_from"], "skip_from": trace["skip_from"],
                "skip_to": trace["skip_to"]}, prepare=False)).fetchone()
        return {**out, "status": newest["status"], "last_slot": newest["time"],
                "since": row["run_start"] or row["first_slot"], "since_is_lower_bound": row["run_start"] is None}

    async def downtimes(self, monitor_id: int, w: Window, region: str | None) -> dict[str, Any]:
        async with self._reading() as conn:
            monitor = await self._monitor(conn, monitor_id)
            region_id = await self._region_id(conn, region, monitor["regions"])
            periods = await _downtime_periods(conn, [monitor_id], region_id, w)
        return _downtimes_answer(monitor_id, monitor, w, region, periods.get(monitor_id, []))

    async def downtimes_many(self, monitor_ids: list[int], w: Window) -> dict[int, dict[str, Any]]:
        """downtimes() over all regions of each of the account's monitors among monitor_ids
        (the others are left out), read together."""
        async with self._reading() as conn:
            monitors = await self._monitors(conn, monitor_ids)
            periods = await _downtime_periods(conn, list(monitors), None, w) if monitors else {}
        return {m: _downtimes_answer(m, monitor, w, None, periods.get(m, [])) for m, monitor in monitors.items()}


def _only(answers: dict[int, dict[str, Any]], monitor_id: int) -> dict[str, Any]:
    """One monitor's entry of a many-monitor read (404 when it is not the account's)."""
    if monitor_id not in answers:
        raise NotFound(f"monitor {monitor_id} not found")
    return answers[monitor_id]


def _stats_answer(monitor_id: int, monitor: dict[str, Any], w: Window, region: str | None,
                  rows: list[dict[str, Any]]) -> dict[str, Any]:
    slo = {monitor_id: float(monitor["slo_target"])}
    return {**figures(combine(rows), slo), "monitor_id": monitor_id, "start": w.start, "end": w.end,
            "region": region, **_coverage(w, monitor)}


async def _downtime_periods(conn: AsyncConnection, monitor_ids: list[int], region_id: int | None,
                            w: Window) -> dict[int, list[dict[str, Any]]]:
    cur = await conn.execute(sql("stats_downtimes"), {"ids": monitor_ids, "region_id": region_id,
                                                      "from": w.start, "to": w.end})
    out: dict[int, list[dict[str, Any]]] = {}
    for p in await cur.fetchall():
        out.setdefault(p.pop("monitor_id"), []).append(
            {**p, "duration_s": (p["ended_at"] - p["started_at"]).total_seconds()})
    return out


def _downtimes_answer(monitor_id: int, monitor: dict[str, Any], w: Window, region: str | None,
                      periods: list[dict[str, Any]]) -> dict[str, Any]:
    return {"monitor_id": monitor_id, "start": w.start, "end": w.end, "region": region,
            **_coverage(w, monitor, raw_only=True),
            "downtime_s": sum(p["duration_s"] for p in periods), "periods": periods}


def _coverage(w: Window, horizons: dict[str, Any], raw_only: bool = False) -> dict[str, datetime]:
    """covered_from/covered_to: the part of the window the figures cover (the whole window
    unless retention dropped data it reaches)."""
    kept = Horizons(horizons["raw_from"], horizons["hourly_from"], horizons["daily_from"])
    lo, hi = covered(w.start, w.end, kept, raw_only)
    return {"covered_from": lo, "covered_to": hi}


async def _series_points(conn: AsyncConnection, monitor_ids: list[int], region_id: int | None, step: timedelta,
                         w: Window) -> dict[int, list[dict[str, Any]]]:
    """Each monitor's points of a series of whole hours or days, by monitor id."""
    cur = await conn.execute(sql("stats_series_parts"), {"ids": monitor_ids, "region_id": region_id,
                                                         "step": step, "from": w.start, "to": w.end})
    out: dict[int, list[dict[str, Any]]] = {}
    for monitor_id, rows in groupby(await cur.fetchall(), key=lambda r: r["monitor_id"]):
        out[monitor_id] = [_point(time, [p for p in parts if p["slots"] is not None])
                           for time, parts in groupby(rows, key=lambda r: r["time"])]
        await asyncio.sleep(0)  # each monitor's points are a few milliseconds of work: let requests in between
    return out


def _series_answer(monitor_id: int, monitor: dict[str, Any], w: Window, region: str | None, name: str,
                   step: timedelta, points: list[dict[str, Any]]) -> dict[str, Any]:
    return {"monitor_id": monitor_id, "start": w.start, "end": w.end, "region": region,
            **_coverage(w, monitor, raw_only=name == "raw"),
            "resolution": name, "step_s": int(step.total_seconds()), "points": points}


def _point(time: datetime, parts: list[dict[str, Any]]) -> dict[str, Any]:
    f = figures(combine(parts))
    lat = f.pop("latency_ms")
    return {**f, "time": time, "latency_mean_ms": lat["mean"], "latency_p50_ms": lat["p50"],
            "latency_p95_ms": lat["p95"], "latency_p99_ms": lat["p99"]}


def _raw_point(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "uptime_pct": None if r["uptime_pct"] is None else float(r["uptime_pct"]),
            "latency_mean_ms": ms(r["latency_mean_us"]), "latency_p50_ms": ms(r["p50_us"]),
            "latency_p95_ms": ms(r["p95_us"]), "latency_p99_ms": ms(r["p99_us"])}
