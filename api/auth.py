"""Bearer authentication for every route under /api/v1 except health and sign-in: an API
key (``vgl_...``, for machines) or a user's access token (see api/sessions.py).

A request yields a Principal: the account, the scope (see api/scopes.py for what each allows)
and the key or the user."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.account_status import refuse_disabled_account
from api.ratelimit import refuse
from api.security import client_address, report
from vigil.accounts import KEY_REVOKED_CHANNEL, secret_matches, split_token
from vigil.constants import API_KEY_PREFIX
from vigil.queries import sql

log = logging.getLogger(__name__)

# Looked-up keys are cached briefly so a busy dashboard does not cost a query per request.
# A revocation is published over Redis and drops the entry in every API process at once;
# the lifetime only bounds how stale an entry gets if that message is lost.
KEY_CACHE_SECONDS = 10.0
# Past this share of its lifetime an entry is looked up again in the background while requests
# keep using it, so a busy key never waits on the database.
REFRESH_AHEAD = 0.75
# Requests per key are counted in memory and added to api_keys.requests this often.
COUNT_FLUSH_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: int
    scope: str  # read | write | admin: an API key's scope, or a signed-in user's role
    key_id: int | None  # None for a signed-in user
    key_prefix: str | None
    user_id: int | None = None
    rate_limit_per_minute: int | None = None  # None: the configured default


# A cached key row: (id, account_id, secret_hash, scope, expires_at epoch or None, rate limit)
KeyRow = tuple


def authorization(scope) -> str:
    """The first Authorization header, read from the raw headers (ASGI servers give names in
    lower case): building the connection's header map for it cost more than the key lookup."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")
    return ""


class ApiKeyAuth(AbstractAuthenticationMiddleware):
    _cache: dict[str, tuple[float, KeyRow | None]] = {}
    _loading: dict[str, asyncio.Future] = {}
    # When each prefix was last dropped: a lookup asked before then must not be cached.
    _dropped: dict[str, float] = {}
    uses: Counter[int] = Counter()

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        try:
            return await self._authenticate(connection)
        except NotAuthorizedException as exc:
            await failed(connection, exc)
            raise

    async def _authenticate(self, connection: ASGIConnection) -> AuthenticationResult:
        header = authorization(connection.scope)
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
        connection.scope["vigil.key_prefix"] = prefix  # type: ignore[typeddict-unknown-key]
        row = await self._lookup(connection, prefix)
        if row is None or not secret_matches(secret, row[2]):
            raise NotAuthorizedException("invalid or revoked API key")
        if row[4] is not None and time.time() >= row[4]:
            raise NotAuthorizedException("expired API key")
        await refuse_disabled_account(connection, row[1])
        self.uses[row[0]] += 1
        return AuthenticationResult(user=Principal(row[1], row[3], row[0], prefix, rate_limit_per_minute=row[5]),
                                    auth=prefix)

    async def _lookup(self, connection: ASGIConnection, prefix: str) -> KeyRow | None:
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

    async def _query(self, pool, prefix: str) -> KeyRow | None:
        asked = time.monotonic()
        async with pool.connection() as conn:
            found = await (await conn.execute(sql("key_by_prefix"), {"prefix": prefix})).fetchone()
        row = found and (found["id"], found["account_id"], found["secret_hash"], found["scope"],
                         found["expires_at"], found["rate_limit_per_minute"])
        if asked <= self._dropped.get(prefix, -1.0):
            return row  # revoked while this lookup ran: answer this request, cache nothing
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[prefix] = (asked, row)
        return row

    @classmethod
    def drop(cls, prefix: str | None = None) -> None:
        """Forget one cached key (every key when ``prefix`` is None)."""
        now = time.monotonic()
        if prefix is None:
            cls._cache.clear()
            cls._dropped.clear()
            cls._dropped.update(dict.fromkeys(cls._loading, now))
            return
        cls._cache.pop(prefix, None)
        if len(cls._dropped) > 10_000:
            cls._dropped.clear()
        cls._dropped[prefix] = now


FAILED_AUTH_LIMIT = "failed authentications from one address"


async def refuse_failing_address(connection: ASGIConnection) -> None:
    """429 for an address already past its failed-authentication limit, before any secret
    or password it brings is checked."""
    limits = connection.app.state.get("rate_limits")
    if limits is None:
        return
    verdict = await limits.exceeded("failed-auth", client_address(connection.scope), limits.failed_auth)
    if verdict is not None:
        raise refuse(verdict, connection.scope, None, FAILED_AUTH_LIMIT)


async def failed(connection: ASGIConnection, exc: NotAuthorizedException) -> None:
    """Log a failed authentication; past the per-address limit it becomes a 429."""
    prefix = connection.scope.get("vigil.key_prefix")
    report("auth_failed", connection.scope, prefix, reason=exc.detail)
    limits = connection.app.state.get("rate_limits")
    if limits is None:
        return
    verdict = await limits.hit("failed-auth", client_address(connection.scope), limits.failed_auth)
    if verdict and verdict.retry_after:
        raise refuse(verdict, connection.scope, prefix, FAILED_AUTH_LIMIT) from exc


async def publish_revocation(redis, prefix: str) -> None:
    ApiKeyAuth.drop(prefix)
    try:
        await redis.publish(KEY_REVOKED_CHANNEL, prefix)
    except Exception as exc:  # the key is revoked in the database; other processes see it within the cache life
        log.error("could not publish the revocation of key %s: %s", prefix, exc)


async def follow_revocations(redis) -> None:
    """Drop revoked keys from this process's cache as revocations are published. Runs for the
    life of the API process; after a lost connection every cached key is dropped, since
    revocations published meanwhile were missed."""
    while True:
        try:
            async with redis.pubsub() as pubsub:
                await pubsub.subscribe(KEY_REVOKED_CHANNEL)
                ApiKeyAuth.drop()
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        ApiKeyAuth.drop(message["data"].decode())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("revocation channel lost (%s); resubscribing", exc)
            await asyncio.sleep(1.0)


async def flush_key_uses(pool) -> None:
    """Add the requests counted since the last flush to api_keys (and set last_used_at)."""
    uses = ApiKeyAuth.uses
    if not uses:
        return
    taken = dict(uses)
    uses.clear()
    try:
        async with pool.connection() as conn:
            await conn.execute(sql("count_key_requests"), {"ids": list(taken), "counts": list(taken.values())})
    except Exception as exc:
        uses.update(taken)  # counted again at the next flush
        log.warning("could not store key usage counts: %s", exc)


async def count_key_uses(pool) -> None:
    try:
        while True:
            await asyncio.sleep(COUNT_FLUSH_SECONDS)
            await flush_key_uses(pool)
    finally:
        await asyncio.shield(flush_key_uses(pool))
