"""Disabled accounts, as seen by API-key requests. The ids are read at most every few
seconds per process (one tiny query), and at once in the process that changed them; other
processes see a change within DISABLED_CACHE_SECONDS, as they see a revoked key."""

from __future__ import annotations

import time

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException

from vigil.queries import sql

DISABLED_CACHE_SECONDS = 5.0


async def disabled_accounts(state) -> frozenset[int]:
    cached = getattr(state, "disabled_accounts", None)
    if cached is not None and time.monotonic() - cached[0] < DISABLED_CACHE_SECONDS:
        return cached[1]
    asked = time.monotonic()
    async with state.pool.connection() as conn:
        ids = frozenset(row["id"] for row in await (await conn.execute(sql("disabled_account_ids"))).fetchall())
    state.disabled_accounts = (asked, ids)
    return ids


def forget_disabled_accounts(state) -> None:
    state.disabled_accounts = None


async def refuse_disabled_account(connection: ASGIConnection, account_id: int) -> None:
    if account_id in await disabled_accounts(connection.app.state):
        raise PermissionDeniedException("this account is disabled by the operator")
