"""API keys of the caller's account: create (the token is shown once), list, revoke.
Every route needs the admin scope (api/scopes.py); a key never creates a wider one."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody

from api.auth import publish_revocation
from api.errors import NotFound
from api.keys.schemas import KeyCreate, KeyCreated, KeyRead
from api.security import report
from vigil.accounts import generate_key, scope_covers
from vigil.queries import sql


class KeyController(Controller):
    path = "/keys"
    tags = ["keys"]

    @post(operation_id="createKey")
    async def create_key(self, request: Request, data: JSONBody[KeyCreate]) -> KeyCreated:
        """Create a key; its token is in this answer only."""
        held = request.user.scope
        if not scope_covers(held, data.scope):
            report("forbidden", request.scope, request.user.key_prefix, needed=data.scope, held=held)
            raise PermissionDeniedException(f"a key with the {held!r} scope cannot create a {data.scope!r} key")
        key = generate_key()
        async with request.app.state.pool.connection() as conn:
            row = await (await conn.execute(sql("create_api_key"), {
                "account_id": request.user.account_id, "name": data.name, "prefix": key.prefix,
                "secret_hash": key.secret_hash, "scope": data.scope, "expires_at": data.expires_at,
                "rate_limit_per_minute": data.rate_limit_per_minute})).fetchone()
        return KeyCreated(**row, token=key.token)

    @get(operation_id="listKeys")
    async def list_keys(self, request: Request) -> list[KeyRead]:
        """The account's keys that are not revoked (request counts lag by a few seconds)."""
        async with request.app.state.pool.connection() as conn:
            rows = await (await conn.execute(sql("list_api_keys"),
                                             {"account_id": request.user.account_id})).fetchall()
        return [KeyRead(**r) for r in rows]

    @delete("/{key_id:int}", operation_id="revokeKey")
    async def revoke_key(self, request: Request, key_id: FromPath[int]) -> None:
        """Revoke a key: every API process refuses it from now on."""
        async with request.app.state.pool.connection() as conn:
            row = await (await conn.execute(sql("revoke_account_key"),
                                            {"id": key_id, "account_id": request.user.account_id})).fetchone()
        if row is None:
            raise NotFound("no such key")
        await publish_revocation(request.app.state.redis, row["prefix"])
