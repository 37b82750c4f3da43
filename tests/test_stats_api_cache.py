"""The stats answer cache: shared computations, stale-while-refreshing, no cached failures."""

from __future__ import annotations

import asyncio

import pytest

from api.stats.cache import AnswerCache, Batch

TTL = 0.2


class Counter:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(0.01)
        if self.fail:
            raise LookupError("gone")
        return self.calls


@pytest.mark.timeout(10)
async def test_concurrent_identical_questions_are_computed_once():
    cache, compute = AnswerCache(TTL), Counter()
    assert await asyncio.gather(*(cache.get(("a", 1), compute) for _ in range(20))) == [1] * 20
    assert await cache.get(("a", 2), compute) == 2  # another key is another question


@pytest.mark.timeout(10)
async def test_expired_answer_is_served_once_more_while_one_refresh_runs():
    cache, compute = AnswerCache(TTL), Counter()
    assert await cache.get("k", compute) == 1
    await asyncio.sleep(TTL * 1.05)
    assert [await cache.get("k", compute) for _ in range(3)] == [1, 1, 1]  # stale, no waiting
    await asyncio.sleep(0.05)
    assert compute.calls == 2 and await cache.get("k", compute) == 2  # refreshed in the background


@pytest.mark.timeout(10)
async def test_an_answer_older_than_twice_the_period_is_recomputed_before_answering():
    cache, compute = AnswerCache(TTL), Counter()
    await cache.get("k", compute)
    await asyncio.sleep(TTL * 2.2)
    assert await cache.get("k", compute) == 2


@pytest.mark.timeout(10)
async def test_failures_are_not_cached_and_zero_seconds_turns_caching_off():
    cache, failing = AnswerCache(TTL), Counter(fail=True)
    for _ in range(2):
        with pytest.raises(LookupError):
            await cache.get("k", failing)
    assert failing.calls == 2
    off, compute = AnswerCache(0), Counter()
    assert [await off.get("k", compute) for _ in range(3)] == [1, 2, 3]


@pytest.mark.timeout(10)
async def test_ready_gives_what_get_would_give_at_once_and_starts_nothing():
    cache, compute = AnswerCache(TTL), Counter()
    assert cache.ready("k") is None  # never asked
    await cache.get("k", compute)
    assert cache.ready("k") == 1  # fresh
    await asyncio.sleep(TTL * 1.05)
    assert cache.ready("k") is None and compute.calls == 1  # expired, nobody refreshing: get's to start it
    assert await cache.get("k", compute) == 1  # served stale, refresh started
    assert cache.ready("k") == 1  # stale while that refresh runs, as get would answer
    await asyncio.sleep(0.05)
    assert compute.calls == 2 and cache.ready("k") == 2
    await asyncio.sleep(TTL * 2.2)
    assert cache.ready("k") is None  # past the stale period


class Loader:
    """Answers a group's items together, leaving out those in ``leave_out``."""

    def __init__(self, leave_out: set[str]) -> None:
        self.calls: list[list[str]] = []
        self.leave_out = leave_out

    async def __call__(self, items: list[str]) -> dict[str, tuple[str, int]]:
        self.calls.append(sorted(items))
        await asyncio.sleep(0.01)
        return {i: (i, len(self.calls)) for i in items if i not in self.leave_out}


@pytest.mark.timeout(10)
async def test_a_groups_expired_answers_are_refreshed_together():
    cache, load = AnswerCache(TTL), Loader(leave_out={"c"})

    async def ask(item: str) -> tuple[str, int]:
        async def alone() -> tuple[str, int]:
            return (item, 0)
        return await cache.get(("g", item), alone, Batch("g", item, load))
    # Asked one after the other, each is read alone; c, which the read leaves out, is computed alone.
    assert [await ask(i) for i in "abc"] == [("a", 1), ("b", 2), ("c", 0)]
    assert load.calls == [["a"], ["b"], ["c"]]
    await asyncio.sleep(TTL * 1.05)
    assert await ask("a") == ("a", 1)  # stale while the group's refresh runs
    await asyncio.sleep(0.1)
    # b and c expired too and were asked for since computed: refreshed along with a.
    assert load.calls[3:] == [["a", "b", "c"]]
    # (fresh() only looks: unlike ready(), which answers a request, it does not count as asked.)
    assert (cache.ready(("g", "a")), cache.fresh(("g", "b"))) == (("a", 4), ("b", 4))
    assert cache.ready(("g", "c")) is None  # left out by the refresh: not kept
    assert await ask("c") == ("c", 0) and load.calls[4:] == [["c"]]  # computed again
    assert await ask("a") == ("a", 4)
    await asyncio.sleep(TTL * 1.05)
    await ask("a")
    await asyncio.sleep(0.1)
    # b was not asked for since its refresh, so it is not refreshed any more; c (computed
    # again, asked since) is.
    assert load.calls[5:] == [["a", "c"]]


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("seconds", "answers", "reads"), [
    # Cache off: the second a is read again, with the questions that came during the first read.
    (0, [("a", 1), ("b", 1), ("a", 2), ("c", 2), ("x", 0)], [["a", "b"], ["a", "c", "x"]]),
    # Not cached yet: the second a shares the first a's computation.
    (TTL, [("a", 1), ("b", 1), ("a", 1), ("c", 2), ("x", 0)], [["a", "b"], ["c", "x"]])])
async def test_answers_requests_wait_for_are_read_together(seconds, answers, reads):
    cache, load = AnswerCache(seconds), Loader(leave_out={"x"})

    async def ask(item: str) -> tuple[str, int]:
        async def alone() -> tuple[str, int]:
            return (item, 0)
        return await cache.get(("g", item), alone, Batch("g", item, load))
    first = [asyncio.ensure_future(ask(i)) for i in "ab"]
    await asyncio.sleep(0.002)  # a's and b's read runs; these come meanwhile
    later = [asyncio.ensure_future(ask(i)) for i in ("a", "c", "x")]
    assert await asyncio.gather(*first, *later) == answers
    assert load.calls == reads  # x, left out, was computed alone
