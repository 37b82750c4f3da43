"""Maintenance window storage, scoped to one account in every statement."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import ValidationException
from psycopg_pool import AsyncConnectionPool

from api.errors import NotFound
from api.maintenance.schemas import MaintenanceFields, MaintenanceUpdate
from vigil.queries import sql


def _params(w: MaintenanceFields, account_id: int) -> dict[str, Any]:
    weekly = w.weekly
    return {"account_id": account_id, "monitor_id": w.monitor_id, "name": w.name,
            "starts_at": w.starts_at, "ends_at": w.ends_at,
            "weekdays": weekly.weekdays if weekly else None,
            "start_time": weekly.start_time if weekly else None,
            "duration_s": weekly.duration_s if weekly else None,
            "time_zone": weekly.time_zone if weekly else "UTC"}


def _read(row: dict[str, Any]) -> dict[str, Any]:
    weekly = None
    if row["weekdays"] is not None:
        weekly = {"weekdays": row["weekdays"], "start_time": row["start_time"],
                  "duration_s": row["duration_s"], "time_zone": row["time_zone"]}
    return {"id": row["id"], "name": row["name"], "monitor_id": row["monitor_id"],
            "starts_at": row["starts_at"], "ends_at": row["ends_at"], "weekly": weekly,
            "created_at": row["created_at"]}


class MaintenanceService:
    def __init__(self, pool: AsyncConnectionPool, account_id: int) -> None:
        self.pool = pool
        self.account_id = account_id

    async def _check_monitor(self, conn, w: MaintenanceFields) -> None:
        if w.monitor_id is None:
            return
        cur = await conn.execute(sql("account_monitor_exists"), {"id": w.monitor_id, "account_id": self.account_id})
        if await cur.fetchone() is None:
            raise ValidationException(f"invalid value for monitor_id: monitor {w.monitor_id} not found")

    async def create(self, w: MaintenanceFields) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            await self._check_monitor(conn, w)
            cur = await conn.execute(sql("create_maintenance"), _params(w, self.account_id))
            return _read(await cur.fetchone())

    async def list(self, limit: int, after: int, monitor_id: int | None) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("list_maintenance"), {"account_id": self.account_id, "limit": limit,
                                                               "after": after, "monitor_id": monitor_id})
            return [_read(r) for r in await cur.fetchall()]

    async def get(self, window_id: int) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("get_maintenance"), {"id": window_id, "account_id": self.account_id})
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"maintenance window {window_id} not found")
        return _read(row)

    async def update(self, window_id: int, patch: MaintenanceUpdate) -> dict[str, Any]:
        current = await self.get(window_id)
        merged = MaintenanceFields.model_validate(
            {k: current[k] for k in MaintenanceFields.model_fields} | patch.model_dump(exclude_unset=True))
        async with self.pool.connection() as conn:
            await self._check_monitor(conn, merged)
            cur = await conn.execute(sql("update_maintenance"), {**_params(merged, self.account_id), "id": window_id})
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"maintenance window {window_id} not found")
        return _read(row)

    async def delete(self, window_id: int) -> None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("delete_maintenance"), {"id": window_id, "account_id": self.account_id})
            if await cur.fetchone() is None:
                raise NotFound(f"maintenance window {window_id} not found")
