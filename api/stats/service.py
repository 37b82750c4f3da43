"""Stats queries, scoped to one account: each method checks the monitor belongs to it (404
otherwise), runs one or two named statements from sql/queries/stats.sql and shapes rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.errors import NotFound
from api.stats.schemas import ms
from api.stats.window import BadWindow, Window, resolve_resolution
from vigil.queries import sql

# How far back the current status's run is traced (raw results are kept 30 days by default).
STATUS_LOOKBACK = timedelta(days=7)
# A newest slot older than this many intervals means the monitor is not being checked.
STALE_INTERVALS = 3


def _window_params(w: Window) -> dict[str, Any]:
    return {"from": w.start, "to": w.end}


class StatsService:
    def __init__(self, pool: AsyncConnectionPool, account_id: int) -> None:
        self.pool = pool
        self.account_id = account_id

    async def _monitor(self, conn: AsyncConnection, monitor_id: int) -> dict[str, Any]:
        cur = await conn.execute(sql("get_monitor"), {"id": monitor_id, "account_id": self.account_id})
        row = await cur.fetchone()
        if row is None:
            raise NotFound(f"monitor {monitor_id} not found")
        return row

    async def _region_id(self, conn: AsyncConnection, region: str | None) -> int | None:
        if region is None:
            return None
        row = await (await conn.execute(sql("stats_region_id"), {"name": region})).fetchone()
        if row is None:
            raise BadWindow("region", f"invalid value for region: no region named {region!r}")
        return row["id"]

    async def stats(self, monitor_id: int, w: Window, region: str | None) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            await self._monitor(conn, monitor_id)
            rows = await self._window_rows(conn, [monitor_id], w, await self._region_id(conn, region))
        return {**rows[0], "monitor_id": monitor_id, "start": w.start, "end": w.end, "region": region}

    async def group_stats(self, tag: str, w: Window, region: str | None) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("stats_monitor_ids_by_tag"), {"account_id": self.account_id, "tag": tag})
            ids = [r["id"] for r in await cur.fetchall()]
            if not ids:
                raise NotFound(f"no monitor tagged {tag!r}")
            rows = await self._window_rows(conn, ids, w, await self._region_id(conn, region))
        return {**rows[0], "tag": tag, "monitor_ids": ids, "monitors": rows[1:],
                "start": w.start, "end": w.end, "region": region}

    async def _window_rows(self, conn: AsyncConnection, ids: list[int], w: Window,
                           region_id: int | None) -> list[dict[str, Any]]:
        """The total row first (monitor_id None), then one per monitor with results."""
        cur = await conn.execute(sql("stats_window"), {"ids": ids, "region_id": region_id, **_window_params(w)})
        rows = [_stats_row(r) for r in await cur.fetchall()]
        if not rows or rows[0]["monitor_id"] is not None:
            rows.insert(0, {"monitor_id": None})
        return rows

    async def regions(self, monitor_id: int, w: Window) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            await self._monitor(conn, monitor_id)
            cur = await conn.execute(sql("stats_regions"), {"monitor_id": monitor_id, **_window_params(w)})
            rows = [_stats_row(r) for r in await cur.fetchall()]
        return {"monitor_id": monitor_id, "start": w.start, "end": w.end, "regions": rows}

    async def series(self, monitor_id: int, w: Window, region: str | None, resolution: str) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            monitor = await self._monitor(conn, monitor_id)
            name, step = resolve_resolution(resolution, w, monitor["interval_s"])
            params = {"monitor_id": monitor_id, "region_id": await self._region_id(conn, region),
                      "step": step, **_window_params(w)}
            query = "stats_series_raw" if name == "raw" else "stats_series_rollup"
            rows = await (await conn.execute(sql(query), params)).fetchall()
        points = [{**r, "latency_mean_ms": ms(r["latency_mean_us"]), "latency_p50_ms": ms(r["p50_us"]),
                   "latency_p95_ms": ms(r["p95_us"]), "latency_p99_ms": ms(r["p99_us"])} for r in rows]
        return {"monitor_id": monitor_id, "start": w.start, "end": w.end, "region": region,
                "resolution": name, "step_s": int(step.total_seconds()), "points": points}

    async def status(self, monitor_id: int, region: str | None, limit: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        async with self.pool.connection() as conn:
            monitor = await self._monitor(conn, monitor_id)
            interval = timedelta(seconds=monitor["interval_s"])
            params = {"monitor_id": monitor_id, "region_id": await self._region_id(conn, region),
                      "to": now + interval}
            recent = await (await conn.execute(sql("stats_recent_slots"), {
                **params, "from": now - interval * (limit + STALE_INTERVALS), "limit": limit})).fetchall()
            out = {"monitor_id": monitor_id, "region": region, "status": "unknown", "since": None,
                   "last_slot": None, "since_is_lower_bound": False,
                   "recent": [{**r, "latency_ms": ms(r["latency_us"])} for r in recent]}
            if not recent or recent[0]["time"] < now - interval * STALE_INTERVALS:
                return out
            newest = recent[0]
            row = await (await conn.execute(sql("stats_status_since"), {
                **params, "from": now - STATUS_LOOKBACK, "status": newest["status"]})).fetchone()
        since = row["run_start"] or row["first_slot"]
        return {**out, "status": newest["status"], "last_slot": newest["time"], "since": since,
                "since_is_lower_bound": row["run_start"] is None}

    async def downtimes(self, monitor_id: int, w: Window, region: str | None) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            monitor = await self._monitor(conn, monitor_id)
            cur = await conn.execute(sql("stats_downtimes"), {
                "monitor_id": monitor_id, "region_id": await self._region_id(conn, region),
                "interval_s": monitor["interval_s"], **_window_params(w)})
            periods = [{**p, "duration_s": (p["ended_at"] - p["started_at"]).total_seconds()}
                       for p in await cur.fetchall()]
        return {"monitor_id": monitor_id, "start": w.start, "end": w.end, "region": region,
                "downtime_s": sum(p["duration_s"] for p in periods), "periods": periods}


def _stats_row(r: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in r.items() if not k.endswith("_us")}
    out["latency_ms"] = {"p50": ms(r["p50_us"]), "p90": ms(r["p90_us"]), "p95": ms(r["p95_us"]),
                         "p99": ms(r["p99_us"]), "p99_9": ms(r["p99_9_us"]), "min": ms(r["latency_min_us"]),
                         "max": ms(r["latency_max_us"]), "mean": ms(r["latency_mean_us"])}
    for key in ("uptime_pct", "slo_target", "error_budget_remaining_pct"):
        if out.get(key) is not None:
            out[key] = float(out[key])
    return out
