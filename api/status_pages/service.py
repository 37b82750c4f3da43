"""Managing status pages, status incidents and badges for one account.

A link page's address and a badge token are 128 and 192 random bits; only their SHA-256 is
stored (as for API keys), so each is shown once, when issued, and issuing again replaces
it. Every monitor id a client names must be the account's own (400 naming the field)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.errors import NotFound
from api.status_pages.schemas import (
    IncidentCreate,
    IncidentUpdate,
    PageCreate,
    PageUpdate,
    Section,
    UpdateCreate,
)
from vigil.accounts import hash_secret
from vigil.queries import sql

LINK_PREFIX = "spl_"
BADGE_PREFIX = "bdg_"


class BadMonitor(ValueError):
    """A monitor id that is not the account's: answered 400 naming the field."""

    def __init__(self, field: str, ids: Iterable[int]) -> None:
        super().__init__(f"invalid value for {field}: no such monitor: {', '.join(map(str, sorted(ids)))}")
        self.field = field


def new_link() -> str:
    return LINK_PREFIX + secrets.token_urlsafe(16)


def new_badge_token() -> str:
    return BADGE_PREFIX + secrets.token_urlsafe(24)


class StatusPageService:
    def __init__(self, pool: AsyncConnectionPool, account_id: int) -> None:
        self.pool = pool
        self.account_id = account_id

    async def _own(self, conn: AsyncConnection, ids: list[int], field: str) -> None:
        if not ids:
            return
        cur = await conn.execute(sql("status_account_monitors"), {"account_id": self.account_id, "ids": ids})
        missing = set(ids) - {r["id"] for r in await cur.fetchall()}
        if missing:
            raise BadMonitor(field, missing)

    async def _layout(self, conn: AsyncConnection, page_id: int) -> list[dict[str, Any]]:
        sections: list[dict[str, Any]] = []
        for r in await (await conn.execute(sql("status_page_layout"), {"page_id": page_id})).fetchall():
            if not sections or sections[-1]["id"] != r["section_id"]:
                sections.append({"id": r["section_id"], "name": r["section_name"], "monitors": []})
            if r["monitor_id"] is not None:
                sections[-1]["monitors"].append({k: r[k] for k in (
                    "monitor_id", "display_name", "key", "show_target", "badges")})
        return sections

    async def _write_sections(self, conn: AsyncConnection, page_id: int, sections: list[Section]) -> None:
        await self._own(conn, [m.monitor_id for s in sections for m in s.monitors], "sections")
        await conn.execute(sql("status_page_clear_sections"), {"page_id": page_id})
        for i, section in enumerate(sections):
            cur = await conn.execute(sql("status_page_add_section"),
                                     {"page_id": page_id, "name": section.name, "position": i})
            section_id = (await cur.fetchone())["id"]
            for j, m in enumerate(section.monitors):
                await conn.execute(sql("status_page_add_monitor"), {
                    "section_id": section_id, "page_id": page_id, "position": j, **m.model_dump()})

    async def _read(self, conn: AsyncConnection, page: dict[str, Any], link: str | None = None) -> dict[str, Any]:
        url = f"/status/{link}" if link else (f"/status/{page['slug']}" if page["visibility"] == "public" else None)
        return {**page, "url": url, "link": link, "sections": await self._layout(conn, page["id"])}

    async def create(self, data: PageCreate) -> dict[str, Any]:
        link = new_link() if data.visibility == "link" else None
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(sql("status_page_create"), {
                **data.model_dump(exclude={"sections"}), "account_id": self.account_id,
                "link_token_hash": hash_secret(link) if link else None})
            page = await cur.fetchone()
            await self._write_sections(conn, page["id"], data.sections)
            return await self._read(conn, page, link)

    async def list(self, limit: int, after: int) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("status_page_list"),
                                     {"account_id": self.account_id, "limit": limit, "after": after})
            return [await self._read(conn, p) for p in await cur.fetchall()]

    async def _get(self, conn: AsyncConnection, page_id: int) -> dict[str, Any]:
        row = await (await conn.execute(sql("status_page_get"), {"id": page_id, "account_id": self.account_id})
                     ).fetchone()
        if row is None:
            raise NotFound(f"status page {page_id} not found")
        return row

    async def get(self, page_id: int) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            return await self._read(conn, await self._get(conn, page_id))

    async def update(self, page_id: int, data: PageUpdate, new_link_wanted: bool = False) -> dict[str, Any]:
        async with self.pool.connection() as conn, conn.transaction():
            current = await self._get(conn, page_id)
            changes = data.model_dump(exclude_unset=True, exclude={"sections"})
            merged = PageCreate(**{**{k: current[k] for k in ("slug", "title", "description", "visibility",
                                                                "custom_domain")}, **changes})
            link = None
            token_hash = current["link_token_hash"] if merged.visibility == "link" else None
            if merged.visibility == "link" and (token_hash is None or new_link_wanted):
                link = new_link()
                token_hash = hash_secret(link)
            cur = await conn.execute(sql("status_page_update"), {
                **merged.model_dump(exclude={"sections"}), "id": page_id, "account_id": self.account_id,
                "link_token_hash": token_hash})
            page = await cur.fetchone()
            if data.sections is not None:
                await self._write_sections(conn, page_id, data.sections)
            return await self._read(conn, page, link)

    async def delete(self, page_id: int) -> None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("status_page_delete"), {"id": page_id, "account_id": self.account_id})
            if await cur.fetchone() is None:
                raise NotFound(f"status page {page_id} not found")

    # Incidents ---------------------------------------------------------------------------

    async def _with_updates(self, conn: AsyncConnection, incidents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cur = await conn.execute(sql("status_incident_updates"), {"ids": [i["id"] for i in incidents]})
        updates: dict[int, list[dict[str, Any]]] = {}
        for u in await cur.fetchall():
            updates.setdefault(u["incident_id"], []).append(u)
        return [{**i, "updates": updates.get(i["id"], [])} for i in incidents]

    async def _incident(self, conn: AsyncConnection, incident_id: int) -> dict[str, Any]:
        row = await (await conn.execute(sql("status_incident_get"),
                                        {"id": incident_id, "account_id": self.account_id})).fetchone()
        if row is None:
            raise NotFound(f"status incident {incident_id} not found")
        return row

    async def create_incident(self, data: IncidentCreate) -> dict[str, Any]:
        async with self.pool.connection() as conn, conn.transaction():
            await self._own(conn, data.monitor_ids, "monitor_ids")
            cur = await conn.execute(sql("status_incident_create"), {
                **data.model_dump(exclude={"message"}), "account_id": self.account_id})
            incident = await cur.fetchone()
            await conn.execute(sql("status_incident_add_update"), {
                "incident_id": incident["id"], "status": data.status, "message": data.message})
            return (await self._with_updates(conn, [incident]))[0]

    async def list_incidents(self, limit: int, before: int | None) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("status_incident_list"),
                                     {"account_id": self.account_id, "limit": limit, "before": before})
            return await self._with_updates(conn, await cur.fetchall())

    async def get_incident(self, incident_id: int) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            return (await self._with_updates(conn, [await self._incident(conn, incident_id)]))[0]

    async def update_incident(self, incident_id: int, data: IncidentUpdate) -> dict[str, Any]:
        async with self.pool.connection() as conn, conn.transaction():
            current = await self._incident(conn, incident_id)
            merged = {k: current[k] for k in ("title", "impact", "monitor_ids")} | data.model_dump(exclude_unset=True)
            await self._own(conn, merged["monitor_ids"] or [], "monitor_ids")
            cur = await conn.execute(sql("status_incident_update"), {
                **merged, "monitor_ids": merged["monitor_ids"] or [], "id": incident_id,
                "account_id": self.account_id})
            return (await self._with_updates(conn, [await cur.fetchone()]))[0]

    async def add_update(self, incident_id: int, data: UpdateCreate) -> dict[str, Any]:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(sql("status_incident_set_status"), {
                "id": incident_id, "account_id": self.account_id, "status": data.status})
            incident = await cur.fetchone()
            if incident is None:
                raise NotFound(f"status incident {incident_id} not found")
            await conn.execute(sql("status_incident_add_update"), {"incident_id": incident_id, **data.model_dump()})
            return (await self._with_updates(conn, [incident]))[0]

    async def delete_incident(self, incident_id: int) -> None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("status_incident_delete"), {"id": incident_id, "account_id": self.account_id})
            if await cur.fetchone() is None:
                raise NotFound(f"status incident {incident_id} not found")

    # Badges ------------------------------------------------------------------------------

    async def issue_badge(self, monitor_id: int) -> str:
        token = new_badge_token()
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(sql("status_account_monitors"), {"account_id": self.account_id,
                                                                      "ids": [monitor_id]})
            if await cur.fetchone() is None:
                raise NotFound(f"monitor {monitor_id} not found")
            await conn.execute(sql("badge_issue"), {"monitor_id": monitor_id, "token_hash": hash_secret(token)})
        return token

    async def remove_badge(self, monitor_id: int) -> None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("badge_delete"), {"monitor_id": monitor_id, "account_id": self.account_id})
            if await cur.fetchone() is None:
                raise NotFound(f"monitor {monitor_id} not found or has no badge")
