"""Operator routes: only the operator token opens them; it opens nothing else. Accounts
across tenants, disabling one, every dead letter, detailed health."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient

from api.app import create_app
from ingest import deadletters
from tests.signin_fixtures import (  # noqa: F401
    OPERATOR,
    OPERATOR_TOKEN,
    bearer,
    sclient,
    sign_in,
    ssettings,
    user,
)
from vigil.accounts import create_account_with_key

OP = "/api/v1/operator"
OPERATOR_GETS = [f"{OP}/accounts", f"{OP}/dead-letters", f"{OP}/health"]


async def test_tenant_keys_and_users_are_refused_on_every_operator_route(sclient, user, auth):  # noqa: F811
    tokens = await sign_in(sclient)
    for headers in (auth, bearer(tokens["access_token"])):
        for path in OPERATOR_GETS:
            r = await sclient.get(path, headers=headers)
            assert r.status_code == 403 and "operator token" in r.json()["detail"], (path, r.text)
        r = await sclient.post(f"{OP}/accounts", json={"name": "sneaky"}, headers=headers)
        assert r.status_code == 403
        r = await sclient.post(f"{OP}/accounts/1/disable", headers=headers)
        assert r.status_code == 403
    r = await sclient.get(f"{OP}/accounts")
    assert r.status_code == 401 and "operator token" in r.json()["detail"]
    r = await sclient.get(f"{OP}/accounts", headers=bearer(OPERATOR_TOKEN[:-2] + "xx"))
    assert r.status_code == 401 and r.json()["detail"] == "invalid operator token"


async def test_the_operator_token_is_refused_on_tenant_routes(sclient, account):  # noqa: F811
    for path in ("/api/v1/monitors", "/api/v1/dead-letters", "/api/v1/incidents"):
        r = await sclient.get(path, headers=OPERATOR)
        assert r.status_code == 401 and "only opens /api/v1/operator" in r.json()["detail"], r.text


async def test_without_a_configured_hash_operator_routes_refuse_everyone(ssettings):  # noqa: F811
    async with AsyncTestClient(app=create_app(ssettings.model_copy(update={"operator_token_hash": ""}))) as c:
        r = await c.get(f"{OP}/accounts", headers=OPERATOR)
    assert r.status_code == 401 and "VIGIL_OPERATOR_TOKEN_HASH" in r.json()["detail"]


async def test_the_operator_lists_and_creates_accounts_and_the_first_key_works(sclient, account):  # noqa: F811
    r = await sclient.post(f"{OP}/accounts", json={"name": "globex"}, headers=OPERATOR)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["account"]["name"] == "globex" and created["account"]["active_keys"] == 1
    assert (await sclient.get("/api/v1/monitors", headers=bearer(created["api_key"]))).status_code == 200
    listed = (await sclient.get(f"{OP}/accounts", headers=OPERATOR)).json()
    assert [a["name"] for a in listed] == ["acme", "globex"]
    assert "api_key" not in str(listed) and created["api_key"] not in str(listed)
    r = await sclient.post(f"{OP}/accounts", json={"name": "globex"}, headers=OPERATOR)
    assert r.status_code == 409 and "'globex' already exists" in r.json()["detail"]
    r = await sclient.post(f"{OP}/accounts", json={"name": "  "}, headers=OPERATOR)
    assert r.status_code == 400


async def test_a_disabled_account_refuses_its_keys_and_users_until_enabled(sclient, user, auth, db):  # noqa: F811
    tokens = await sign_in(sclient)
    _, other_key = create_account_with_key(db, "globex", "admin")
    account_id = db.execute("SELECT id FROM accounts WHERE name = 'acme'").fetchone()[0]
    r = await sclient.post(f"{OP}/accounts/{account_id}/disable", headers=OPERATOR)
    assert r.status_code == 200 and r.json()["disabled"] is True
    for headers in (auth, bearer(tokens["access_token"])):
        r = await sclient.get("/api/v1/monitors", headers=headers)
        assert r.status_code == 403 and "account is disabled" in r.json()["detail"], r.text
    r = await sclient.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse battery"})
    assert r.status_code == 403 and "account is disabled" in r.json()["detail"]
    assert (await sclient.get("/api/v1/monitors", headers=bearer(other_key))).status_code == 200
    r = await sclient.post(f"{OP}/accounts/{account_id}/enable", headers=OPERATOR)
    assert r.status_code == 200 and r.json()["disabled"] is False
    assert (await sclient.get("/api/v1/monitors", headers=auth)).status_code == 200
    assert (await sclient.get("/api/v1/monitors", headers=bearer(tokens["access_token"]))).status_code == 200


@pytest.mark.parametrize("path", [f"{OP}/accounts/999/disable", f"{OP}/accounts/0/enable",
                                  f"{OP}/accounts/99999999999/disable"])
async def test_an_unknown_account_id_is_4xx(sclient, path):  # noqa: F811
    r = await sclient.post(path, headers=OPERATOR)
    assert r.status_code in (400, 404), r.text


async def test_the_operator_sees_every_accounts_dead_letters(sclient, ssettings, db, auth):  # noqa: F811
    acme, globex = 1, create_account_with_key(db, "globex", "admin")[0]
    ids = [db.execute("INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms)"
                      " VALUES (%s, 'm', 'http', 'https://x.example/', 60, 1000) RETURNING id",
                      (owner,)).fetchone()[0] for owner in (acme, globex)]
    redis = aioredis.from_url(ssettings.redis_url)
    await deadletters.push(redis, deadletters.entry("job-1", "local", 1, 1_700_000_000,
                                                    [[ids[0], "http"], [ids[1], "http"]], 4, "db down"), 100)
    await redis.aclose()
    r = await sclient.get(f"{OP}/dead-letters", headers=OPERATOR)
    assert r.status_code == 200, r.text
    assert [d["monitor_ids"] for d in r.json()] == [ids]
    tenant = (await sclient.get("/api/v1/dead-letters", headers=auth)).json()
    assert [d["monitor_ids"] for d in tenant] == [[ids[0]]]


async def test_tenant_health_says_only_the_status_and_the_operator_gets_details(sclient):  # noqa: F811
    r = await sclient.get("/api/v1/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await sclient.get(f"{OP}/health", headers=OPERATOR)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["redis"] == "ok"
    assert body["dead_letters"] == 0 and body["pool"]["size"] >= 1


async def test_operator_health_names_an_unreachable_redis_but_not_where_it_lives(ssettings):  # noqa: F811
    from vigil.devcluster import free_port

    port = free_port()
    down = ssettings.model_copy(update={"redis_url": f"redis://:hunter2@127.0.0.1:{port}/0"})
    async with AsyncTestClient(app=create_app(down)) as c:
        public = await c.get("/api/v1/health")
        r = await c.get(f"{OP}/health", headers=OPERATOR)
    assert public.status_code == 503 and public.json() == {"status": "degraded"}
    assert r.status_code == 503, r.text
    assert r.json()["redis"] == "error: unreachable" and r.json()["dead_letters"] is None
    assert str(port) not in r.text and "hunter2" not in r.text
