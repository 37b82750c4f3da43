"""A short-lived, per-process cache of stats answers. Dashboards poll the same windows over
and over; within `VIGIL_STATS_CACHE_SECONDS` (default 5 s, 0 = off) a repeated question is
answered from memory, and concurrent identical questions share one computation. For one
more such period an expired answer is still served while a single background computation
refreshes it, so no request waits for a refresh: answers are at most twice that many
seconds stale. Keys start with the account id, so an answer is never served to another
account. Failures are not cached.

Refreshing is what a busy cache costs: every answer asked for is computed again each period.
Answers that differ only in their monitor (the same account, route and query) can be
refreshed together by one computation over all of them (a ``Batch``), which costs about as
much as a few single ones. A refresh of such an answer waits a moment (``gather``) for
others of its group to expire too, takes along those of the group that were asked for and
expire within half a period anyway, and gives them all one expiry, so the group keeps
expiring, and being refreshed, together. Answers that requests wait for (not cached yet, or
with the cache off) are read together too: the first starts a read at once, and those of its
group that come while it runs are read together when it ends. Every such answer is read
after its request came, so it is as fresh as one read alone."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

MAX_ENTRIES = 10_000
# Background refreshes run at most this many at a time, so a wave of expiring answers cannot
# crowd out the requests being answered from memory meanwhile.
REFRESH_CONCURRENCY = 2
# How long a batched refresh waits for more answers of its group to expire, as a share of
# the period (the waiting answers are served as they are meanwhile), at most MAX_GATHER.
GATHER_SHARE = 0.05
MAX_GATHER = 0.25
# A group's answers are read at most this many at a time: the work of a read for many
# monitors (parsing, merging, quantiles) runs without a break on the event loop, and the
# requests answered meanwhile wait for it.
MAX_BATCH = 10


@dataclass(frozen=True, slots=True)
class Batch:
    """How to refresh an answer together with others of its group: answers with the same
    ``group`` differ only in ``item``, and ``load(items)`` computes them all at once, as a
    mapping from item to answer (an item it leaves out failed, and is not kept)."""
    group: Hashable
    item: Hashable
    load: Callable[[list], Awaitable[dict[Hashable, Any]]]

    async def load_all(self, items: list) -> dict[Hashable, Any]:
        """load over items, MAX_BATCH at a time."""
        answers: dict[Hashable, Any] = {}
        for i in range(0, len(items), MAX_BATCH):
            answers.update(await self.load(items[i:i + MAX_BATCH]))
        return answers


# What a group's read gives a question it left out: that question is computed alone.
_LEFT_OUT = object()


def _succeeded(future: asyncio.Future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


class AnswerCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[Hashable, tuple[float, asyncio.Future]] = {}
        self._refreshing: set[Hashable] = set()
        self._refresh_slots: asyncio.Semaphore | None = None
        # Batched refreshes: each group's items and their keys (members), the items waiting
        # for their group's refresh (pending), and the keys asked for since last computed.
        self._members: dict[Hashable, dict[Hashable, Hashable]] = {}
        self._pending: dict[Hashable, tuple[Batch, dict[Hashable, Hashable]]] = {}
        self._asked: set[Hashable] = set()
        # Reads that requests wait for: per group, the items waiting for the group's next
        # read, and the groups with such a read running.
        self._joining: dict[Hashable, dict[Hashable, asyncio.Future]] = {}
        self._loading: set[Hashable] = set()

    def _expiry(self, now: float) -> float:
        # Lifetimes vary a little so answers cached together do not all expire together.
        return now + self.seconds * random.uniform(0.75, 1.0)

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]], batch: Batch | None = None) -> Any:
        """The answer to ``key``, computed by ``compute`` when there is none to give; an
        expired one is refreshed with its ``batch`` when given, else alone."""
        if self.seconds <= 0:
            return await (compute() if batch is None else self._together(batch, compute))
        now = time.monotonic()
        if batch is not None:
            self._members.setdefault(batch.group, {})[batch.item] = key
        hit = self._entries.get(key)
        if hit is not None:
            expires, future = hit
            if now < expires:
                self._asked.add(key)
                return await asyncio.shield(future)
            if now < expires + self.seconds and _succeeded(future):
                self._asked.add(key)
                self._refresh(key, compute, batch)
                return future.result()
        return await asyncio.shield(self._start(key, compute if batch is None else lambda: self._together(batch, compute), now))

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
            self._asked.add(key)
            return hit[1].result()
        return None

    def _start(self, key: Hashable, compute: Callable[[], Awaitable[Any]], now: float) -> asyncio.Future:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] + self.seconds > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            kept = self._entries
            self._asked &= kept.keys()
            self._members = {g: m for g, m in ((g, {i: k for i, k in m.items() if k in kept})
                                              for g, m in self._members.items()) if m}
        future = asyncio.ensure_future(compute())
        self._entries[key] = (self._expiry(now), future)
        self._asked.add(key)

        def forget_failure(f: asyncio.Future) -> None:
            if not _succeeded(f) and self._entries.get(key, (0.0, None))[1] is f:
                del self._entries[key]
        future.add_done_callback(forget_failure)
        return future

    async def _together(self, batch: Batch, compute: Callable[[], Awaitable[Any]]) -> Any:
        """compute's answer, read together with the answers other requests of its group wait
        for (computed alone when the group's read leaves it out)."""
        loop = asyncio.get_running_loop()
        waiting = self._joining.get(batch.group)
        if waiting is None:
            waiting = self._joining[batch.group] = {}
            if batch.group not in self._loading:
                loop.call_soon(self._read_together, batch.group, batch)
        future = waiting.get(batch.item)
        if future is None:
            future = waiting[batch.item] = loop.create_future()
            # Retrieved even when every request waiting for it has gone.
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
        answer = await asyncio.shield(future)
        return await compute() if answer is _LEFT_OUT else answer

    def _read_together(self, group: Hashable, batch: Batch) -> None:
        waiting = self._joining.pop(group, None)
        if not waiting:
            return
        self._loading.add(group)

        async def read() -> None:
            try:
                answers = await batch.load_all(list(waiting))
            except Exception as exc:  # every waiting request reports it, as each would alone
                for future in waiting.values():
                    future.done() or future.set_exception(exc)
            else:
                for item, future in waiting.items():
                    future.done() or future.set_result(answers.get(item, _LEFT_OUT))
            finally:
                self._loading.discard(group)
                self._read_together(group, batch)  # those that came meanwhile
        asyncio.ensure_future(read())

    async def _limited(self, compute: Callable[[], Awaitable[Any]]) -> Any:
        if self._refresh_slots is None:
            self._refresh_slots = asyncio.Semaphore(REFRESH_CONCURRENCY)
        async with self._refresh_slots:
            return await compute()

    def _refresh(self, key: Hashable, compute: Callable[[], Awaitable[Any]], batch: Batch | None = None) -> None:
        if key in self._refreshing:
            return
        self._refreshing.add(key)
        if batch is not None:
            waiting = self._pending.get(batch.group)
            if waiting is None:
                waiting = self._pending[batch.group] = (batch, {})
                asyncio.get_running_loop().call_later(min(MAX_GATHER, self.seconds * GATHER_SHARE),
                                                      self._refresh_group, batch.group)
            waiting[1][batch.item] = key
            return
        future = asyncio.ensure_future(self._limited(compute))

        def done(f: asyncio.Future) -> None:
            self._refreshing.discard(key)
            if _succeeded(f):
                self._entries[key] = (self._expiry(time.monotonic()), f)
            else:
                self._entries.pop(key, None)  # the next request computes (and reports) it again
        future.add_done_callback(done)

    def _refresh_group(self, group: Hashable) -> None:
        """One computation for the group's expired answers and those of its answers asked for
        since computed that would expire within half a period; all get one expiry."""
        batch, items = self._pending.pop(group)
        soon = time.monotonic() + self.seconds / 2
        for item, key in self._members.get(group, {}).items():
            hit = self._entries.get(key)
            if (item not in items and key not in self._refreshing and key in self._asked
                    and hit is not None and hit[0] < soon and _succeeded(hit[1])):
                items[item] = key
                self._refreshing.add(key)
        self._asked.difference_update(items.values())
        future = asyncio.ensure_future(self._limited(lambda: batch.load_all(list(items))))

        def done(f: asyncio.Future) -> None:
            answers = f.result() if _succeeded(f) else {}
            expiry = self._expiry(time.monotonic())
            for item, key in items.items():
                self._refreshing.discard(key)
                if item in answers:
                    answer = f.get_loop().create_future()
                    answer.set_result(answers[item])
                    self._entries[key] = (expiry, answer)
                else:
                    self._entries.pop(key, None)  # the next request computes (and reports) it again
        future.add_done_callback(done)
