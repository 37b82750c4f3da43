"""Rate limits and the suspicious-request log in one API process: failed authentications
per client address, outbound tests per key, 429 headers, request ids, the vigil.security
events and their counts, and the API staying up when Redis is not."""

from __future__ import annotations

import logging

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.auth import ApiKeyAuth
from tests.notify_fixtures import nclient, nsettings  # noqa: F401
from vigil.devcluster import free_port

M = "/api/v1/monitors"


@pytest.fixture(autouse=True)
def empty_key_cache():
    ApiKeyAuth.drop()
    yield
    ApiKeyAuth.drop()


def _events(caplog) -> list[dict]:
    return [r.security for r in caplog.records if r.name == "vigil.security"]


async def test_failed_authentications_past_the_limit_are_429_for_that_address(client, settings, auth, caplog):
    caplog.set_level(logging.WARNING, logger="vigil.security")
    bad = {"Authorization": "Bearer vgl_deadbeef_wrong"}
    limit = settings.rate_limit_failed_auth_per_minute
    answers = [(await client.get(M, headers=bad)).status_code for _ in range(limit + 2)]
    assert answers == [401] * limit + [429, 429]
    r = await client.get(M, headers=bad)
    assert r.status_code == 429 and "failed authentications" in r.json()["detail"]
    assert int(r.headers["Retry-After"]) >= 1 and r.headers["RateLimit-Remaining"] == "0"
    assert (await client.get(M, headers=auth)).status_code == 200  # a good key from there still works
    events = _events(caplog)
    failed = [e for e in events if e["event"] == "auth_failed"]
    assert len(failed) == limit + 3 and failed[0]["key_prefix"] == "deadbeef"
    assert failed[0]["client"] == "testclient" and failed[0]["path"] == M and failed[0]["request_id"]
    assert any(e["event"] == "rate_limited" for e in events)
    assert all("wrong" not in str(e) for e in events)  # the secret part is never logged


async def test_test_notifications_are_limited_per_key(nclient, nsettings, auth):  # noqa: F811
    c = (await nclient.post("/api/v1/channels", headers=auth, json={
        "name": "mail", "kind": "email", "config": {"to": ["ops@example.com"]}})).json()
    limit = nsettings.rate_limit_outbound_per_minute
    answers = [(await nclient.post(f"/api/v1/channels/{c['id']}/test", headers=auth)).status_code
               for _ in range(limit + 1)]
    assert answers == [202] * limit + [429]
    assert (await nclient.get("/api/v1/channels", headers=auth)).status_code == 200


async def test_a_request_id_is_echoed_or_made_up_on_every_answer(client, auth):
    r = await client.get(M, headers={**auth, "X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"
    r = await client.get(M, headers={"X-Request-ID": "abc-124"})
    assert r.status_code == 401 and r.headers["X-Request-ID"] == "abc-124"
    made = (await client.get(M, headers={**auth, "X-Request-ID": "bad id\twith spaces"})).headers["X-Request-ID"]
    assert len(made) == 32 and made != (await client.get(M, headers=auth)).headers["X-Request-ID"]


async def test_forbidden_and_invalid_bursts_are_logged_and_counted(client, auth, db, caplog):
    from api.security import BURST_REQUESTS, EVENTS, _bursts

    _bursts.clear()  # earlier tests' 4xx answers from this client address are not this burst
    from vigil.accounts import create_account_with_key

    caplog.set_level(logging.WARNING, logger="vigil.security")
    _, reader = create_account_with_key(db, "acme", "read")
    before = dict(EVENTS)
    r = await client.post(M, headers={"Authorization": f"Bearer {reader}", "X-Request-ID": "r-1"}, json={})
    assert r.status_code == 403
    for _ in range(BURST_REQUESTS):
        await client.get(f"{M}/999999", headers=auth)
    after = dict(EVENTS)
    assert after.get("forbidden", 0) == before.get("forbidden", 0) + 1
    assert after.get("invalid_burst", 0) == before.get("invalid_burst", 0) + 1
    forbidden, = [e for e in _events(caplog) if e["event"] == "forbidden"]
    assert forbidden["request_id"] == "r-1" and forbidden["needed"] == "write"
    assert forbidden["key_prefix"] == reader.split("_")[1]


async def test_without_redis_the_api_answers_without_limits(settings, account):
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with AsyncTestClient(app=create_app(down)) as c:
        r = await c.get(M, headers={"Authorization": f"Bearer {account[1]}"})
        assert r.status_code == 200 and "RateLimit-Limit" not in r.headers


@pytest.fixture
def incr_calls(monkeypatch) -> list[int]:
    """The amount of every increment the rate limits send to Redis."""
    from limits.aio.storage import RedisStorage

    calls, incr = [], RedisStorage.incr

    async def counted(self, key, expiry, amount=1):
        calls.append(amount)
        return await incr(self, key, expiry, amount)
    monkeypatch.setattr(RedisStorage, "incr", counted)
    return calls


async def test_concurrent_hits_share_increments_and_the_count_stays_exact(settings, incr_calls):
    import asyncio

    import redis.asyncio as aioredis

    from api.ratelimit import RateLimits

    redis = aioredis.from_url(settings.redis_url)
    try:
        limits = RateLimits(settings, redis.connection_pool)
        verdicts = await asyncio.gather(*(limits.hit("key", "k1", 10) for _ in range(15)))
        again = await limits.hit("key", "k1", 10)
    finally:
        await redis.aclose()
    assert sorted(v.remaining for v in verdicts if v.retry_after is None) == list(range(10))
    assert sum(v.retry_after is not None for v in verdicts) == 5 and again.retry_after is not None
    assert sum(incr_calls) == 16 and len(incr_calls) < 16  # one Redis call carried several requests


async def test_two_processes_taking_blocks_never_let_more_than_the_limit_through(settings, incr_calls, monkeypatch):
    import redis.asyncio as aioredis

    import api.ratelimit
    from api.ratelimit import RateLimits

    redis = aioredis.from_url(settings.redis_url)
    try:
        one, two = RateLimits(settings, redis.connection_pool), RateLimits(settings, redis.connection_pool)
        verdicts = [await (one if i % 3 else two).hit("key", "busy", 1000) for i in range(1100)]
        accepted = [v for v in verdicts if v.retry_after is None]
        # Each process takes blocks of 10 places: every place is handed out once, and the
        # places a process still holds when the limit is reached are all it can cost.
        assert 1000 - 2 * 9 <= len(accepted) <= 1000
        assert len({v.remaining for v in accepted}) == len(accepted)
        assert len(incr_calls) <= 1100 // 10 + 2 and set(incr_calls) == {10}
        refused = verdicts[-1]
        assert refused.retry_after is not None and 1 <= refused.retry_after <= 60
        # A block ends with its window: past it the next request asks Redis again.
        before = len(incr_calls)
        later = api.ratelimit.time.time() + 61
        monkeypatch.setattr(api.ratelimit.time, "time", lambda: later)
        await one.hit("key", "busy", 1000)
        assert len(incr_calls) == before + 1
    finally:
        await redis.aclose()


async def test_a_process_asks_redis_when_the_window_ends_once_per_window(settings, incr_calls, monkeypatch):
    import redis.asyncio as aioredis
    from limits.aio.storage import RedisStorage

    from api.ratelimit import RateLimits

    asked, get_expiry = [], RedisStorage.get_expiry

    async def counted(self, key):
        asked.append(key)
        return await get_expiry(self, key)
    monkeypatch.setattr(RedisStorage, "get_expiry", counted)
    redis = aioredis.from_url(settings.redis_url)
    try:
        first, later = RateLimits(settings, redis.connection_pool), RateLimits(settings, redis.connection_pool)
        assert (await first.hit("key", "busy", 10_000)).remaining == 9_999  # opens the window
        verdicts = [await later.hit("key", "busy", 10_000) for _ in range(500)]
    finally:
        await redis.aclose()
    # Blocks of 100: the later process learns the window's end with its first block only.
    assert len(incr_calls) == 1 + 5 and len(asked) == 1
    assert [v.remaining for v in verdicts] == list(range(9_899, 9_399, -1))
