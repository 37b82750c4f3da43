"""What the operator routes do: accounts across tenants, and the whole system's state."""

from __future__ import annotations

from api.account_status import forget_disabled_accounts
from api.errors import Conflict, NotFound
from api.operator.schemas import AccountRead
from vigil.accounts import check_account_name, generate_key
from vigil.queries import sql


async def accounts(pool, account_id: int | None = None) -> list[AccountRead]:
    async with pool.connection() as conn:
        rows = await (await conn.execute(sql("operator_accounts"), {"id": account_id})).fetchall()
    return [AccountRead(**row) for row in rows]


async def create_account(pool, name: str) -> tuple[AccountRead, str]:
    """A new account and its first admin key (the token, shown once)."""
    check_account_name(name)
    key = generate_key()
    async with pool.connection() as conn, conn.transaction():
        row = await (await conn.execute(sql("insert_account"), {"name": name})).fetchone()
        if row is None:
            raise Conflict(f"account {name!r} already exists")
        await conn.execute(sql("create_api_key"), {"account_id": row["id"], "name": "first admin key",
                                                   "prefix": key.prefix, "secret_hash": key.secret_hash,
                                                   "scope": "admin", "expires_at": None,
                                                   "rate_limit_per_minute": None})
    return (await accounts(pool, row["id"]))[0], key.token


async def set_disabled(state, account_id: int, disabled: bool) -> AccountRead:
    async with state.pool.connection() as conn:
        row = await (await conn.execute(sql("set_account_disabled"),
                                        {"id": account_id, "disabled": disabled})).fetchone()
    if row is None:
        raise NotFound(f"no account with id {account_id}")
    forget_disabled_accounts(state)
    return (await accounts(state.pool, account_id))[0]
