"""Rate limits per API key and per client address, shared by every API process: one-minute
fixed windows counted in Redis by the `limits` library.

Every request takes a numbered place in its counter's window, and a place past the limit is
refused, so no more requests than the limit are let through in a window whatever the
number of processes. A process does not ask Redis for every place: it takes a block of
places at once (one INCRBY) and hands them out itself until the block is used or its window
ends. A block is a hundredth of the limit (at most LEASE_MAX places; a single place for
limits of 100 or less), so a busy key costs one Redis call per block instead of one per
request, and the places a process holds unused when the window ends, the only cost, are at
most a hundredth of the limit per process. Requests that need a place while a block is on
its way to Redis share the next one.

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
# The largest block of places a process takes from Redis at once (see the module docstring).
LEASE_MAX = 100
# The scope key of a request's address verdict (see address_verdict).
ADDRESS_VERDICT = "vigil.address_verdict"
# Counters whose blocks this process keeps; past it, ended and used-up blocks are dropped.
_MAX_BLOCKS = 10_000


@dataclass(frozen=True, slots=True)
class Verdict:
    limit: int
    remaining: int
    retry_after: int | None = None  # seconds; set when the request is refused

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers an answered request carries."""
        return [(b"ratelimit-limit", str(self.limit).encode()), (b"ratelimit-remaining", str(self.remaining).encode())]

    def headers(self) -> dict[str, str]:
        out = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining)}
        if self.retry_after is not None:
            out |= {"RateLimit-Reset": str(self.retry_after), "Retry-After": str(self.retry_after)}
        return out


@dataclass(slots=True)
class _Block:
    """Places next..last of one counter's window, this process's to hand out until ``ends``."""
    next: int
    last: int
    ends: float  # time.time() at which the window (and so the block) ends


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
        self._blocks: dict[str, _Block] = {}
        # Per counter key: one future per request waiting for the next block.
        self._waiting: dict[str, list[asyncio.Future]] = {}
        self._flying: set[str] = set()

    async def hit(self, kind: str, identifier: str, per_minute: int) -> Verdict | None:
        """Count one request against ``kind``/``identifier``; None when Redis cannot say."""
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        key = item.key_for(kind, identifier)
        block = self._blocks.get(key)
        if block is not None and block.next <= block.last and time.time() < block.ends:
            place, block.next = block.next, block.next + 1
        else:
            try:
                place, block = await self._place(key, item.get_expiry(), per_minute)
            except StorageError as exc:
                now = time.monotonic()
                if now - self._warned > _WARN_EVERY_SECONDS:
                    self._warned = now
                    log.warning("rate limits not enforced: Redis unavailable: %s", exc)
                return None
        if place <= per_minute:
            return Verdict(per_minute, per_minute - place)
        return Verdict(per_minute, 0, max(1, math.ceil(block.ends - time.time())))

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

    async def _place(self, key: str, expiry: int, per_minute: int) -> tuple[int, _Block]:
        """This request's place in the window, from the next block taken from Redis."""
        waiting = self._waiting.get(key)
        if waiting is None:
            waiting = self._waiting[key] = []
            if key not in self._flying:
                self._flying.add(key)
                asyncio.create_task(self._take_blocks(key, expiry, per_minute))
        mine = asyncio.get_running_loop().create_future()
        waiting.append(mine)
        return await mine

    async def _take_blocks(self, key: str, expiry: int, per_minute: int) -> None:
        """Take blocks of ``key`` from Redis until no request waits: each waiting request gets
        the next place of the block, and the places left over are handed out by ``hit``."""
        try:
            size = min(LEASE_MAX, max(1, per_minute // 100))
            while (waiting := self._waiting.pop(key, None)) is not None:
                amount = max(size, len(waiting))
                last = self._blocks.get(key)
                try:
                    total = await self.storage.incr(key, expiry, amount=amount)
                    # A new window's first block knows when the window ends; so does a block
                    # after one of this process in a window not ended yet (the count went on
                    # from there). Otherwise a block asks Redis, when it matters: places are
                    # left over, or a refusal needs it.
                    if total == amount:
                        ends = time.time() + expiry
                    elif last is not None and last.last < total and time.time() < last.ends:
                        ends = last.ends
                    elif amount > len(waiting) or total > per_minute:
                        ends = await self.storage.get_expiry(key)
                    else:
                        ends = 0.0
                except Exception as exc:
                    for future in waiting:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                block = self._blocks[key] = _Block(total - amount + 1, total, ends)
                for future in waiting:
                    place, block.next = block.next, block.next + 1
                    if not future.done():  # a request given up meanwhile still used its place
                        future.set_result((place, block))
                if len(self._blocks) > _MAX_BLOCKS:
                    self._drop_ended_blocks()
        finally:
            self._flying.discard(key)

    def _drop_ended_blocks(self) -> None:
        now = time.time()
        for key in [k for k, b in self._blocks.items() if b.ends <= now or b.next > b.last]:
            del self._blocks[key]


def refuse(verdict: Verdict, scope: Scope, key_prefix: str | None, what: str) -> TooManyRequestsException:
    report("rate_limited", scope, key_prefix, limit=what, per_minute=verdict.limit)
    return TooManyRequestsException(
        f"rate limit exceeded: {verdict.limit} {what} per minute; retry in {verdict.retry_after} s",
        headers=verdict.headers())


async def address_verdict(limits: RateLimits, scope: Scope) -> Verdict | None:
    """Count a request without a key against its client address, once per request: a verdict
    taken by an earlier middleware (api/status_pages/shortcut.py) is kept in the scope for
    this one."""
    if ADDRESS_VERDICT not in scope:
        scope[ADDRESS_VERDICT] = await limits.hit(  # type: ignore[typeddict-unknown-key]
            "address", client_address(scope), limits.per_address)
    return scope[ADDRESS_VERDICT]  # type: ignore[typeddict-item]


async def _verdict(limits: RateLimits, scope: Scope) -> Verdict | None:
    principal = scope.get("user")
    if principal is None:  # a route without authentication
        verdict = await address_verdict(limits, scope)
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
        extra = verdict.raw_headers()

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)
        await app(scope, receive, send_with_limits)
    return middleware
