"""Rate limits per API key and per client address, shared by every API process: one-minute
fixed windows counted in Redis by the `limits` library.

The requests of one process that arrive for the same counter while its increment is on the
way to Redis share the next increment (INCRBY n, each request taking its own place in the n):
the count stays exact across processes, and a busy key costs one Redis call per round trip
instead of one per request.

Litestar's own RateLimitMiddleware does not fit: it reads, extends and rewrites a list of
timestamps under a lock that only serialises one process (two processes overrun the limit),
and it has one limit for every client, where a key may carry its own.

If Redis cannot be reached the request is let through and a warning logged: losing the limits
for a while is better than losing the API."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.errors import StorageError
from litestar.exceptions import TooManyRequestsException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.security import client_address, report
from vigil.settings import Settings

log = logging.getLogger(__name__)

# Operations that make Vigil send traffic out (a test notification): their own, stricter limit.
OUTBOUND_OPERATIONS = frozenset({"testChannel"})
_WARN_EVERY_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Verdict:
    limit: int
    remaining: int
    retry_after: int | None = None  # seconds; set when the request is refused

    def headers(self) -> dict[str, str]:
        out = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining)}
        if self.retry_after is not None:
            out |= {"RateLimit-Reset": str(self.retry_after), "Retry-After": str(self.retry_after)}
        return out


class RateLimits:
    def __init__(self, settings: Settings, connection_pool) -> None:
        self.storage = RedisStorage("async+" + settings.redis_url, wrap_exceptions=True,
                                    implementation="redispy", key_prefix="vigil:ratelimit",
                                    connection_pool=connection_pool)
        self.per_key = settings.rate_limit_per_minute
        self.per_address = settings.rate_limit_address_per_minute
        self.failed_auth = settings.rate_limit_failed_auth_per_minute
        self.outbound = settings.rate_limit_outbound_per_minute
        self._items: dict[int, RateLimitItem] = {}
        self._warned = 0.0
        # Per counter key: one future per request waiting for the next shared increment.
        self._waiting: dict[str, list[asyncio.Future]] = {}
        self._flying: set[str] = set()

    async def hit(self, kind: str, identifier: str, per_minute: int) -> Verdict | None:
        """Count one request against ``kind``/``identifier``; None when Redis cannot say."""
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        key = item.key_for(kind, identifier)
        try:
            count = await self._incr(key, item.get_expiry())
            if count <= per_minute:
                return Verdict(per_minute, per_minute - count)
            reset = await self.storage.get_expiry(key)
        except StorageError as exc:
            now = time.monotonic()
            if now - self._warned > _WARN_EVERY_SECONDS:
                self._warned = now
                log.warning("rate limits not enforced: Redis unavailable: %s", exc)
            return None
        return Verdict(per_minute, 0, max(1, math.ceil(reset - time.time())))

    async def exceeded(self, kind: str, identifier: str, per_minute: int) -> Verdict | None:
        """The refusal ``kind``/``identifier`` would get now, without counting a request; None
        when it is within its limit (or Redis cannot say)."""
        item = self._items.get(per_minute) or RateLimitItemPerMinute(per_minute)
        key = item.key_for(kind, identifier)
        try:
            if await self.storage.get(key) < per_minute:
                return None
            reset = await self.storage.get_expiry(key)
        except StorageError:
            return None
        return Verdict(per_minute, 0, max(1, math.ceil(reset - time.time())))

    async def _incr(self, key: str, expiry: int) -> int:
        """This request's count in the window: its place in the increment it shares."""
        waiting = self._waiting.get(key)
        if waiting is None:
            waiting = self._waiting[key] = []
            if key not in self._flying:
                self._flying.add(key)
                asyncio.create_task(self._send(key, expiry))
        mine = asyncio.get_running_loop().create_future()
        waiting.append(mine)
        return await mine

    async def _send(self, key: str, expiry: int) -> None:
        """Send the waiting increments of ``key`` one batch at a time until none wait."""
        try:
            while (waiting := self._waiting.pop(key, None)) is not None:
                try:
                    total = await self.storage.incr(key, expiry, amount=len(waiting))
                except Exception as exc:
                    for future in waiting:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                first = total - len(waiting)
                for place, future in enumerate(waiting, 1):
                    if not future.done():  # a request given up meanwhile still counted
                        future.set_result(first + place)
        finally:
            self._flying.discard(key)


def refuse(verdict: Verdict, scope: Scope, key_prefix: str | None, what: str) -> TooManyRequestsException:
    report("rate_limited", scope, key_prefix, limit=what, per_minute=verdict.limit)
    return TooManyRequestsException(
        f"rate limit exceeded: {verdict.limit} {what} per minute; retry in {verdict.retry_after} s",
        headers=verdict.headers())


async def _verdict(limits: RateLimits, scope: Scope) -> Verdict | None:
    principal = scope.get("user")
    if principal is None:  # a route without authentication
        verdict = await limits.hit("address", client_address(scope), limits.per_address)
        if verdict and verdict.retry_after:
            raise refuse(verdict, scope, None, "requests from one address")
        return verdict
    who = principal.key_prefix or f"user-{principal.user_id}"
    verdict = await limits.hit("key", who, principal.rate_limit_per_minute or limits.per_key)
    if verdict and verdict.retry_after:
        raise refuse(verdict, scope, principal.key_prefix, "requests")
    if scope["route_handler"].operation_id in OUTBOUND_OPERATIONS:
        outbound = await limits.hit("outbound", who, limits.outbound)
        if outbound and outbound.retry_after:
            raise refuse(outbound, scope, principal.key_prefix, "outbound tests")
    return verdict


def rate_limited(app: ASGIApp) -> ASGIApp:
    """Middleware after authentication: a key's limit, or the client address's without a key."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        limits = scope["litestar_app"].state.get("rate_limits") if scope["type"] == "http" else None
        verdict = await _verdict(limits, scope) if limits is not None else None
        if verdict is None:
            await app(scope, receive, send)
            return
        extra = [(b"ratelimit-limit", str(verdict.limit).encode()),
                 (b"ratelimit-remaining", str(verdict.remaining).encode())]

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)
        await app(scope, receive, send_with_limits)
    return middleware
