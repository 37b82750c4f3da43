"""Alert rule storage, scoped to one account in every statement."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import ValidationException
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from api.errors import NotFound
from api.rules.schemas import RuleFields, RuleUpdate
from vigil.queries import sql


def _params(rule: RuleFields, account_id: int) -> dict[str, Any]:
    d = rule.model_dump(exclude={"condition"})
    condition = rule.condition.model_dump()
    d["kind"] = condition.pop("kind")
    d["params"] = Jsonb(condition)
    d["account_id"] = account_id
    return d


def _read(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["condition"] = {"kind": row.pop("kind"), **row.pop("params")}
    row.pop("account_id", None)
    return row


class RuleService:
    def __init__(self, pool: AsyncConnectionPool, account_id: int) -> None:
        self.pool = pool
        self.account_id = account_id

    async def _check_references(self, conn, rule: RuleFields) -> None:
        """A rule may only name this account's monitor and channels (400 naming the field)."""
        if rule.monitor_id is not None:
            cur = await conn.execute(sql("account_monitor_exists"), {"id": rule.monitor_id, "account_id": self.account_id})
            if await cur.fetchone() is None:
                raise ValidationException(f"invalid value for monitor_id: monitor {rule.monitor_id} not found")
        if rule.channel_ids:
            cur = await conn.execute(sql("account_channel_ids"), {"ids": rule.channel_ids, "account_id": self.account_id})
            missing = set(rule.channel_ids) - {r["id"] for r in await cur.fetchall()}
            if missing:
                raise ValidationException(f"invalid value for channel_ids: channel {min(missing)} not found")

    async def create(self, rule: RuleFields) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            await self._check_references(conn, rule)
            cur = await conn.execute(sql("create_rule"), _params(rule, self.account_id))
            return _read(await cur.fetchone())

    async def list(self, limit: int, after: int) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("list_rules"), {"account_id": self.account_id, "limit": limit, "after": after})
            return [_read(r) for r in await cur.fetchall()]

    async def get(self, rule_id: int) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("get_rule"), {"id": rule_id, "account_id": self.account_id})
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"rule {rule_id} not found")
        return _read(row)

    async def update(self, rule_id: int, patch: RuleUpdate) -> dict[str, Any]:
        current = await self.get(rule_id)
        changes = patch.model_dump(exclude_unset=True)
        if "monitor_id" in changes and changes["monitor_id"] is not None:
            current["tag"] = None  # switching target kind: the new one replaces the old
        if "tag" in changes and changes["tag"] is not None:
            current["monitor_id"] = None
        merged = RuleFields.model_validate({k: current[k] for k in RuleFields.model_fields} | changes)
        async with self.pool.connection() as conn:
            await self._check_references(conn, merged)
            cur = await conn.execute(sql("update_rule"), {**_params(merged, self.account_id), "id": rule_id})
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"rule {rule_id} not found")
        return _read(row)

    async def delete(self, rule_id: int) -> None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("delete_rule"), {"id": rule_id, "account_id": self.account_id})
            if await cur.fetchone() is None:
                raise NotFound(f"rule {rule_id} not found")
