"""Monitor storage, scoped to one account in every statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.exceptions import ValidationException
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from api.errors import NotFound
from api.monitors.schemas import MonitorCreate, MonitorFields, MonitorUpdate
from ingest.checks import KINDS
from vigil import logs
from vigil.constants import MAX_REGIONS, ErrorKind
from vigil.netguard import check_destination
from vigil.queries import sql
from vigil.settings import Settings


def _params(m: MonitorFields) -> dict[str, Any]:
    d = m.model_dump()
    d["expectations"] = Jsonb(m.expectations.model_dump(exclude_defaults=True))
    # The request that saved it, handed to the worker with the monitor's next first check.
    d["request_id"] = logs.current("request_id")
    return d


async def _ensure_regions(conn, names: list[str]) -> None:
    cur = await conn.execute(sql("ensure_regions"), {"names": names, "max_regions": MAX_REGIONS})
    refused = [r["name"] for r in await cur.fetchall()]
    if refused:
        raise ValidationException(detail=f"invalid value for regions: {MAX_REGIONS} regions exist already, "
                                         f"the most there may be; use an existing region instead of {refused[0]!r}")


def _read(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row.pop("account_id", None)
    row.pop("request_id", None)
    row["slo_target"] = float(row["slo_target"])
    return row


async def _check_destinations(m: MonitorFields, settings: Settings) -> None:
    """A target the checks could never reach is refused when saved, by the same guard the
    checks apply at the socket."""
    for host, port, field in KINDS[m.kind].destinations(m.target, m.expectations):
        try:
            await check_destination(host, port, settings.outbound_policy())
        except ValueError as exc:
            raise ValidationException(detail=f"invalid value for {field}: {exc}") from None


class MonitorService:
    def __init__(self, pool: AsyncConnectionPool, account_id: int, settings: Settings) -> None:
        self.pool = pool
        self.account_id = account_id
        self.settings = settings

    async def create(self, data: MonitorCreate) -> dict[str, Any]:
        await _check_destinations(data, self.settings)
        async with self.pool.connection() as conn:
            await _ensure_regions(conn, data.regions)
            cur = await conn.execute(sql("create_monitor"), {**_params(data), "account_id": self.account_id})
            return _read(await cur.fetchone())

    async def list(self, limit: int, after: int) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("list_monitors"),
                                     {"account_id": self.account_id, "limit": limit, "after": after})
            return [_read(r) for r in await cur.fetchall()]

    async def get(self, monitor_id: int) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("get_monitor"), {"id": monitor_id, "account_id": self.account_id})
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"monitor {monitor_id} not found")
        return _read(row)

    async def update(self, monitor_id: int, patch: MonitorUpdate) -> dict[str, Any]:
        current = await self.get(monitor_id)
        changes = patch.model_dump(exclude_unset=True)
        merged = MonitorFields.model_validate({k: current[k] for k in MonitorFields.model_fields} | changes)
        await _check_destinations(merged, self.settings)
        async with self.pool.connection() as conn:
            await _ensure_regions(conn, merged.regions)
            cur = await conn.execute(sql("update_monitor"),
                                     {**_params(merged), "id": monitor_id, "account_id": self.account_id})
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"monitor {monitor_id} not found")
        return _read(row)

    async def delete(self, monitor_id: int) -> None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("delete_monitor"), {"id": monitor_id, "account_id": self.account_id})
            if await cur.fetchone() is None:
                raise NotFound(f"monitor {monitor_id} not found")

    async def recent_results(self, monitor_id: int, limit: int, hours: int) -> list[dict[str, Any]]:
        await self.get(monitor_id)  # 404 for another account's monitor
        since = datetime.now(UTC) - timedelta(hours=hours)
        async with self.pool.connection() as conn:
            regions = {r["id"]: r["name"] for r in
                       await (await conn.execute("SELECT id, name FROM regions")).fetchall()}
            cur = await conn.execute(sql("recent_results"),
                                     {"monitor_id": monitor_id, "since": since, "limit": limit})
            rows = await cur.fetchall()
        return [{
            "time": r["time"], "region": regions.get(r["region_id"], str(r["region_id"])), "up": r["up"],
            "error_kind": None if r["error_kind"] == 0 else _kind_name(r["error_kind"]),
            "status_code": r["status_code"] or None, "latency_ms": r["latency_us"] / 1000,
            "connect_ms": r["connect_us"] / 1000, "ttfb_ms": r["ttfb_us"] / 1000,
            "lateness_ms": r["lateness_ms"], "attempts": r["attempts"],
        } for r in rows]


def _kind_name(value: int) -> str:
    try:
        return ErrorKind(value).name
    except ValueError:
        return str(value)
