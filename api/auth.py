"""Bearer authentication for every route under /api/v1 except health and sign-in: an API
key (``vgl_...``, for machines) or a user's access token (see api/sessions.py)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.account_status import refuse_disabled_account
from vigil.accounts import secret_matches, split_token
from vigil.constants import API_KEY_PREFIX
from vigil.queries import sql

# Looked-up keys are cached briefly so a busy dashboard does not cost a query per request;
# a revoked key therefore stops working within this many seconds.
KEY_CACHE_SECONDS = 10.0
# Past this share of its lifetime an entry is looked up again in the background while requests
# keep using it, so a busy key never waits on the database (nor on the last-used UPDATE).
REFRESH_AHEAD = 0.75


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int | None  # None for a signed-in user
    account_id: int
    role: str  # an API key's role, or a user's: read, write or admin
    user_id: int | None = None


class ApiKeyAuth(AbstractAuthenticationMiddleware):
    _cache: dict[str, tuple[float, tuple | None]] = {}
    _loading: dict[str, asyncio.Future] = {}

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("missing API key: send 'Authorization: Bearer <key>'")
        if not token.startswith(API_KEY_PREFIX):
            from api.sessions import user_principal

            return AuthenticationResult(user=await user_principal(connection, token), auth="session")
        parts = split_token(token)
        if parts is None:
            raise NotAuthorizedException("malformed API key")
        prefix, secret = parts
        row = await self._lookup(connection, prefix)
        if row is None or not secret_matches(secret, row[2]):
            raise NotAuthorizedException("invalid or revoked API key")
        await refuse_disabled_account(connection, row[1])
        return AuthenticationResult(user=Principal(row[0], row[1], row[3]), auth=prefix)

    async def _lookup(self, connection: ASGIConnection, prefix: str) -> tuple | None:
        pool = connection.app.state.pool
        hit = self._cache.get(prefix)
        if hit is not None:
            age = time.monotonic() - hit[0]
            if age < KEY_CACHE_SECONDS:
                if age >= KEY_CACHE_SECONDS * REFRESH_AHEAD:
                    self._load(pool, prefix)
                return hit[1]
        return await asyncio.shield(self._load(pool, prefix))

    def _load(self, pool, prefix: str) -> asyncio.Future:
        """The key's row from the database, one lookup per key at a time however many
        requests need it."""
        loading = self._loading.get(prefix)
        if loading is not None and not loading.done() and loading.get_loop() is asyncio.get_running_loop():
            return loading
        future = asyncio.ensure_future(self._query(pool, prefix))
        self._loading[prefix] = future

        def done(f: asyncio.Future) -> None:
            if self._loading.get(prefix) is f:
                del self._loading[prefix]
            if not f.cancelled():
                f.exception()  # retrieved: a failed background refresh is retried by the next request
        future.add_done_callback(done)
        return future

    async def _query(self, pool, prefix: str) -> tuple | None:
        asked = time.monotonic()
        async with pool.connection() as conn:
            row = await (await conn.execute(sql("key_by_prefix"), {"prefix": prefix})).fetchone()
            if row:
                row = (row["id"], row["account_id"], row["secret_hash"], row["role"])
                await conn.execute(sql("touch_api_key"), {"id": row[0]})
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[prefix] = (asked, row)
        return row


def require_admin(connection: ASGIConnection, _) -> None:
    """Guard for routes that change account-wide settings."""
    if connection.user.role != "admin":
        raise PermissionDeniedException("this needs an admin API key or an admin user")
