"""A short-lived, per-process cache of stats answers. Dashboards poll the same windows over
and over; within `VIGIL_STATS_CACHE_SECONDS` (default 5 s, 0 = off) a repeated question is
answered from memory, and concurrent identical questions share one computation. For one
more such period an expired answer is still served while a single background computation
refreshes it, so no request waits for a refresh: answers are at most twice that many
seconds stale. Keys start with the account id, so an answer is never served to another
account. Failures are not cached."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

MAX_ENTRIES = 10_000
# Background refreshes run at most this many at a time, so a wave of expiring answers cannot
# crowd out the requests being answered from memory meanwhile.
REFRESH_CONCURRENCY = 2


def _succeeded(future: asyncio.Future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


class AnswerCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[Hashable, tuple[float, asyncio.Future]] = {}
        self._refreshing: set[Hashable] = set()
        self._refresh_slots: asyncio.Semaphore | None = None

    def _expiry(self, now: float) -> float:
        # Lifetimes vary a little so answers cached together do not all expire together.
        return now + self.seconds * random.uniform(0.75, 1.0)

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        if self.seconds <= 0:
            return await compute()
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None:
            expires, future = hit
            if now < expires:
                return await asyncio.shield(future)
            if now < expires + self.seconds and _succeeded(future):
                self._refresh(key, compute)
                return future.result()
        return await asyncio.shield(self._start(key, compute, now))

    def fresh(self, key: Hashable) -> Any:
        """The answer to ``key`` if it is computed and not expired, else None, without
        waiting or starting anything (for callers that answer a hit on a faster path and
        ask through ``get`` otherwise)."""
        hit = self._entries.get(key)
        if hit is None or time.monotonic() >= hit[0] or not _succeeded(hit[1]):
            return None
        return hit[1].result()

    def ready(self, key: Hashable) -> Any:
        """The answer ``get`` would return at once for ``key`` without starting anything, else
        None: a fresh one, or an expired one still within its stale period whose refresh is
        already running (the request that found it expired started it)."""
        hit = self._entries.get(key)
        if hit is None or not _succeeded(hit[1]):
            return None
        now = time.monotonic()
        if now < hit[0] or (now < hit[0] + self.seconds and key in self._refreshing):
            return hit[1].result()
        return None

    def _start(self, key: Hashable, compute: Callable[[], Awaitable[Any]], now: float) -> asyncio.Future:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] + self.seconds > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
        future = asyncio.ensure_future(compute())
        self._entries[key] = (self._expiry(now), future)

        def forget_failure(f: asyncio.Future) -> None:
            if not _succeeded(f) and self._entries.get(key, (0.0, None))[1] is f:
                del self._entries[key]
        future.add_done_callback(forget_failure)
        return future

    def _refresh(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> None:
        if key in self._refreshing:
            return
        self._refreshing.add(key)
        if self._refresh_slots is None:
            self._refresh_slots = asyncio.Semaphore(REFRESH_CONCURRENCY)

        async def limited() -> Any:
            async with self._refresh_slots:
                return await compute()
        future = asyncio.ensure_future(limited())

        def done(f: asyncio.Future) -> None:
            self._refreshing.discard(key)
            if _succeeded(f):
                self._entries[key] = (self._expiry(time.monotonic()), f)
            else:
                self._entries.pop(key, None)  # the next request computes (and reports) it again
        future.add_done_callback(done)
