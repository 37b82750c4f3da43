"""Channel storage, scoped to one account in every statement; secrets encrypted on the way in."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from litestar.exceptions import ValidationException
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import ValidationError

from api.channels.schemas import ChannelCreate, ChannelUpdate
from api.errors import NotFound, Unavailable
from notify.channels import SECRET_FIELDS, parse_config, public_config, split_config
from notify.crypto import SecretKeyError, decrypt_secrets, encrypt_secrets
from notify.outbox import enqueue_test
from vigil.netguard import check_destination, default_port, valid_port
from vigil.queries import sql
from vigil.settings import Settings


def _read(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "kind": row["kind"], "config": public_config(row["config"]),
            "has_secret": row["secret_ciphertext"] is not None, "enabled": row["enabled"],
            "created_at": row["created_at"]}


def _invalid_config(exc: Exception) -> ValidationException:
    if isinstance(exc, ValidationError):
        extra = [{"key": "config." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                 for e in exc.errors()]
        return ValidationException(detail="invalid value for " + ", ".join(x["key"] for x in extra),
                                   extra=extra)
    msg = str(exc)
    return ValidationException(detail=msg if msg.startswith("config") else f"invalid value for config: {msg}")


class ChannelService:
    def __init__(self, pool: AsyncConnectionPool, account_id: int, settings: Settings) -> None:
        self.pool = pool
        self.account_id = account_id
        self.settings = settings

    def _stored(self, kind: str, raw: dict[str, Any], old_secrets: dict[str, Any]) -> dict[str, Any]:
        try:
            config = parse_config(kind, raw, self.settings.outbound_policy())
        except (ValidationError, ValueError) as exc:
            raise _invalid_config(exc) from None
        public, secrets = split_config(kind, config)
        secrets = {**old_secrets, **secrets}
        if kind == "webhook" and not secrets:
            raise ValidationException(detail="invalid value for config.secret: a webhook needs a signing secret")
        try:
            cipher = encrypt_secrets(self.settings.secret_key, secrets) if secrets else None
        except SecretKeyError as exc:
            raise Unavailable(str(exc)) from None
        return {"config": Jsonb(public), "secret_ciphertext": cipher}

    async def _check_destination(self, raw: dict[str, Any]) -> None:
        """A named receiver whose addresses are all refused is refused now, not at delivery."""
        url = raw.get("url")
        if isinstance(url, str):
            parts = urlsplit(url.strip())
            if not parts.hostname or not valid_port(parts):
                return  # a malformed URL: the config's validation says what is wrong with it
            try:
                await check_destination(parts.hostname or "", default_port(parts), self.settings.outbound_policy())
            except ValueError as exc:
                raise _invalid_config(ValueError(f"config.url: {exc}")) from None

    async def create(self, data: ChannelCreate) -> dict[str, Any]:
        await self._check_destination(data.config)
        stored = self._stored(data.kind, data.config, {})
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("create_channel"), {
                "account_id": self.account_id, "kind": data.kind, "name": data.name,
                "enabled": data.enabled, **stored})
            return _read(await cur.fetchone())

    async def list(self, limit: int, after: int) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("list_channels"),
                                     {"account_id": self.account_id, "limit": limit, "after": after})
            return [_read(r) for r in await cur.fetchall()]

    async def _row(self, channel_id: int) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("get_channel"), {"id": channel_id, "account_id": self.account_id})
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"channel {channel_id} not found")
        return row

    async def get(self, channel_id: int) -> dict[str, Any]:
        return _read(await self._row(channel_id))

    async def update(self, channel_id: int, patch: ChannelUpdate) -> dict[str, Any]:
        row = await self._row(channel_id)
        stored = {"config": Jsonb(row["config"]), "secret_ciphertext": row["secret_ciphertext"]}
        if patch.config is not None:
            old: dict[str, Any] = {}
            if row["secret_ciphertext"] and SECRET_FIELDS[row["kind"]]:
                try:
                    old = decrypt_secrets(self.settings.secret_key, row["secret_ciphertext"])
                except SecretKeyError as exc:
                    raise Unavailable(str(exc)) from None
            raw = _with_kept_secrets(row["kind"], patch.config, old)
            await self._check_destination(raw)
            stored = self._stored(row["kind"], raw, old)
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("update_channel"), {
                "id": channel_id, "account_id": self.account_id,
                "name": patch.name if patch.name is not None else row["name"],
                "enabled": patch.enabled if patch.enabled is not None else row["enabled"], **stored})
            updated = await cur.fetchone()
        if updated is None:
            raise NotFound(f"channel {channel_id} not found")
        return _read(updated)

    async def delete(self, channel_id: int) -> None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql("delete_channel"), {"id": channel_id, "account_id": self.account_id})
            if await cur.fetchone() is None:
                raise NotFound(f"channel {channel_id} not found")

    async def send_test(self, channel_id: int) -> dict[str, Any]:
        row = await self._row(channel_id)
        async with self.pool.connection() as conn:
            return await enqueue_test(conn, self.account_id, row["id"], row["name"], uuid.uuid4().hex)


def _with_kept_secrets(kind: str, raw: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """A required secret (a Slack/Discord URL) left out of a new config keeps its old value."""
    raw = dict(raw)
    for field in SECRET_FIELDS[kind]:
        if field not in raw and field in old and kind in ("slack", "discord"):
            raw[field] = old[field]
    return raw
