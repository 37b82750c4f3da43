"""The API-key cache of api/auth.py: one database lookup per key however many requests
arrive at once, and a busy key re-read in the background before its entry expires, so a
revocation still takes effect without any request waiting on the database."""

from __future__ import annotations

import asyncio
import time

import pytest

from api import auth as auth_module
from api.auth import ApiKeyAuth


@pytest.fixture(autouse=True)
def empty_key_cache():
    ApiKeyAuth._cache.clear()
    yield
    ApiKeyAuth._cache.clear()


@pytest.mark.timeout(60)
async def test_concurrent_requests_with_an_unknown_key_share_one_lookup(client, auth, monkeypatch):
    lookups = []
    query = ApiKeyAuth._query

    async def counted(self, pool, prefix):
        lookups.append(prefix)
        await asyncio.sleep(0.05)  # keep the lookup in flight while the others arrive
        return await query(self, pool, prefix)
    monkeypatch.setattr(ApiKeyAuth, "_query", counted)
    answers = await asyncio.gather(*(client.get("/api/v1/monitors", headers=auth) for _ in range(10)))
    assert [r.status_code for r in answers] == [200] * 10
    assert len(lookups) == 1


@pytest.mark.timeout(60)
async def test_a_key_late_in_its_cache_life_is_reread_in_the_background(client, auth, db):
    assert (await client.get("/api/v1/monitors", headers=auth)).status_code == 200
    (prefix, (_, row)), = ApiKeyAuth._cache.items()
    ApiKeyAuth._cache[prefix] = (time.monotonic() - auth_module.KEY_CACHE_SECONDS * 0.9, row)
    db.execute("UPDATE api_keys SET revoked_at = now()")
    # Still inside its lifetime: answered from the cache at once, and a re-read is started.
    assert (await client.get("/api/v1/monitors", headers=auth)).status_code == 200
    for _ in range(100):
        if ApiKeyAuth._cache[prefix][1] is None:
            break
        await asyncio.sleep(0.02)
    r = await client.get("/api/v1/monitors", headers=auth)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
