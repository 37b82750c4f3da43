"""Heartbeat tokens and pings.

A token is ``hb_`` + 192 random bits (URL-safe). Only its SHA-256 is stored
(heartbeat_tokens.token_hash): it is a bearer credential a cron job sends without an API
key, so a copy of the database must not be enough to fake pings. A fast hash suffices
for 192-bit random tokens and keeps a ping to one indexed lookup. The token is shown once,
when issued; issuing again replaces it (rotation)."""

from __future__ import annotations

import secrets
from typing import Any

from psycopg_pool import AsyncConnectionPool

from api.errors import Conflict, NotFound
from vigil.accounts import hash_secret
from vigil.queries import sql

TOKEN_PREFIX = "hb_"
TOKEN_BYTES = 24


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


async def record_ping(pool: AsyncConnectionPool, token: str) -> dict[str, Any]:
    """Stamp the token's monitor as pinged now; NotFound for an unknown token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise NotFound("unknown heartbeat token")
    async with pool.connection() as conn:
        cur = await conn.execute(sql("record_heartbeat_ping"), {"token_hash": hash_secret(token)})
        row = await cur.fetchone()
    if row is None:
        raise NotFound("unknown heartbeat token")
    return row


async def issue_token(pool: AsyncConnectionPool, account_id: int, monitor_id: int) -> str:
    """A new token for the account's heartbeat monitor, replacing any previous one."""
    async with pool.connection() as conn:
        cur = await conn.execute(sql("get_monitor"), {"id": monitor_id, "account_id": account_id})
        monitor = await cur.fetchone()
        if monitor is None:
            raise NotFound(f"monitor {monitor_id} not found")
        if monitor["kind"] != "heartbeat":
            raise Conflict(f"monitor {monitor_id} is a {monitor['kind']} monitor; only heartbeat monitors take pings")
        token = new_token()
        await conn.execute(sql("issue_heartbeat_token"), {"monitor_id": monitor_id, "token_hash": hash_secret(token)})
    return token
