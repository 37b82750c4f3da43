"""Bearer API-key authentication for every route under /api/v1 except health."""

from __future__ import annotations

import time
from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from vigil.accounts import secret_matches, split_token
from vigil.queries import sql

# Looked-up keys are cached briefly so a busy dashboard does not cost a query per request;
# a revoked key therefore stops working within this many seconds.
KEY_CACHE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int
    account_id: int
    role: str


class ApiKeyAuth(AbstractAuthenticationMiddleware):
    _cache: dict[str, tuple[float, tuple | None]] = {}

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("missing API key: send 'Authorization: Bearer <key>'")
        parts = split_token(token)
        if parts is None:
            raise NotAuthorizedException("malformed API key")
        prefix, secret = parts
        row = await self._lookup(connection, prefix)
        if row is None or not secret_matches(secret, row[2]):
            raise NotAuthorizedException("invalid or revoked API key")
        return AuthenticationResult(user=Principal(row[0], row[1], row[3]), auth=prefix)

    async def _lookup(self, connection: ASGIConnection, prefix: str) -> tuple | None:
        now = time.monotonic()
        hit = self._cache.get(prefix)
        if hit and now - hit[0] < KEY_CACHE_SECONDS:
            return hit[1]
        pool = connection.app.state.pool
        async with pool.connection() as conn:
            row = await (await conn.execute(sql("key_by_prefix"), {"prefix": prefix})).fetchone()
            if row:
                row = (row["id"], row["account_id"], row["secret_hash"], row["role"])
                await conn.execute(sql("touch_api_key"), {"id": row[0]})
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[prefix] = (now, row)
        return row


def require_admin(connection: ASGIConnection, _) -> None:
    """Guard for routes that change account-wide settings."""
    if connection.user.role != "admin":
        raise PermissionDeniedException("this needs an admin API key")
