"""Key management through the API: the token shown once, listing without secrets, scopes,
expiry checked on every request (also from the cache), revocation at once, request counts,
a key's own rate limit, and one account never seeing another's keys."""

from __future__ import annotations

import time

import pytest

from api import auth as auth_module
from api.auth import ApiKeyAuth, flush_key_uses
from vigil.accounts import create_account_with_key, scope_covers, scope_name

K = "/api/v1/keys"


@pytest.fixture(autouse=True)
def empty_key_cache():
    ApiKeyAuth.drop()
    ApiKeyAuth.uses.clear()
    yield
    ApiKeyAuth.drop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_created_key_is_shown_once_and_listed_without_its_secret(client, auth, db):
    r = await client.post(K, headers=auth, json={"name": "dashboard", "scope": "read"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["token"].startswith(f"vgl_{created['prefix']}_") and created["scope"] == "read"
    secret = created["token"].rsplit("_", 1)[1]
    listed = (await client.get(K, headers=auth)).json()
    assert [k["name"] for k in listed] == ["", "dashboard"]
    assert secret not in str(listed) and "token" not in listed[1] and "secret_hash" not in listed[1]
    assert set(listed[1]) == {"id", "prefix", "name", "scope", "created_at", "last_used_at", "expires_at",
                              "requests", "rate_limit_per_minute"}
    stored = db.execute("SELECT secret_hash FROM api_keys WHERE prefix = %s", (created["prefix"],)).fetchone()[0]
    assert secret.encode() not in bytes(stored)
    h = bearer(created["token"])
    assert (await client.get("/api/v1/monitors", headers=h)).status_code == 200
    assert (await client.post("/api/v1/monitors", headers=h, json={"name": "m", "target": "https://e.com/"})
            ).status_code == 403


@pytest.mark.parametrize(("body", "words"), [
    ({"scope": "owner"}, ["scope"]),
    ({"expires_in": 5}, ["expires_in"]),
    ({"expires_at": "2001-01-01T00:00:00Z"}, ["future"]),
    ({"expires_at": "2999-01-01T00:00:00"}, ["expires_at"]),
    ({"expires_at": "2999-01-01T00:00:00Z", "expires_in": 3600}, ["not both"]),
    ({"rate_limit_per_minute": 0}, ["rate_limit_per_minute"]),
    ({"name": "a\u0000b"}, ["NUL"]),
    ({"token": "vgl_00000000_mine"}, ["token"]),
])
async def test_a_bad_key_request_is_400_naming_the_field(client, auth, body, words):
    r = await client.post(K, headers=auth, json=body)
    assert r.status_code == 400, r.text
    assert all(w in r.text for w in words), r.text


async def test_only_admin_keys_manage_keys(client, auth, db):
    for scope in ("read", "write"):
        _, token = create_account_with_key(db, "acme", scope)
        assert (await client.get(K, headers=bearer(token))).status_code == 403
        assert (await client.post(K, headers=bearer(token), json={"scope": "read"})).status_code == 403
    assert db.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 3


@pytest.mark.parametrize(("held", "asked", "allowed"), [
    ("read", "read", True), ("read", "write", False), ("read", "admin", False),
    ("write", "read", True), ("write", "write", True), ("write", "admin", False),
    ("admin", "read", True), ("admin", "write", True), ("admin", "admin", True),
])
def test_a_scope_covers_itself_and_the_narrower_ones(held, asked, allowed):
    assert scope_covers(held, asked) is allowed


def test_member_is_the_old_name_of_read_and_other_names_are_refused():
    assert scope_name("member") == "read"
    with pytest.raises(ValueError, match="scope must be one of read, write, admin"):
        scope_name("owner")


async def test_a_revoked_key_is_refused_at_once_and_another_accounts_key_is_404(client, auth, db):
    created = (await client.post(K, headers=auth, json={"scope": "write"})).json()
    h = bearer(created["token"])
    assert (await client.get("/api/v1/monitors", headers=h)).status_code == 200  # now cached
    _, other = create_account_with_key(db, "globex", "admin")
    assert (await client.delete(f"{K}/{created['id']}", headers=bearer(other))).status_code == 404
    assert created["prefix"] not in str((await client.get(K, headers=bearer(other))).json())
    assert (await client.get("/api/v1/monitors", headers=h)).status_code == 200
    assert (await client.delete(f"{K}/{created['id']}", headers=auth)).status_code == 204
    r = await client.get("/api/v1/monitors", headers=h)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert (await client.delete(f"{K}/{created['id']}", headers=auth)).status_code == 404
    assert created["id"] not in [k["id"] for k in (await client.get(K, headers=auth)).json()]


async def test_an_expired_key_is_refused_even_from_the_cache(client, auth, monkeypatch):
    created = (await client.post(K, headers=auth, json={"scope": "read", "expires_in": 60})).json()
    h = bearer(created["token"])
    assert (await client.get("/api/v1/monitors", headers=h)).status_code == 200
    assert created["prefix"] in ApiKeyAuth._cache
    later = time.time() + 61
    monkeypatch.setattr(auth_module.time, "time", lambda: later)
    r = await client.get("/api/v1/monitors", headers=h)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


async def test_requests_are_counted_per_key(client, auth, settings):
    created = (await client.post(K, headers=auth, json={"scope": "read"})).json()
    for _ in range(3):
        assert (await client.get("/api/v1/monitors", headers=bearer(created["token"]))).status_code == 200
    await flush_key_uses(client.app.state.pool)
    keys = {k["id"]: k for k in (await client.get(K, headers=auth)).json()}
    assert keys[created["id"]]["requests"] == 3 and keys[created["id"]]["last_used_at"] is not None


async def test_a_keys_own_rate_limit_replaces_the_default(client, auth):
    created = (await client.post(K, headers=auth, json={"scope": "read", "rate_limit_per_minute": 3})).json()
    h = bearer(created["token"])
    answers = [await client.get("/api/v1/monitors", headers=h) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit-Limit"] == "3" and answers[2].headers["RateLimit-Remaining"] == "0"
    refused = answers[3]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Reset"] == refused.headers["Retry-After"]
    assert "rate limit" in refused.json()["detail"]
    assert (await client.get("/api/v1/monitors", headers=auth)).status_code == 200  # other keys unaffected


def _vigil(settings, *args: str):
    import subprocess
    import sys

    from tests.services import service_env

    return subprocess.run([sys.executable, "-m", "vigil", *args], capture_output=True, text=True,
                          env=service_env(settings), timeout=30)


@pytest.mark.timeout(60)
async def test_the_cli_takes_scopes_and_its_revocation_reaches_a_running_api_at_once(client, settings, db):
    import asyncio
    import json

    made = {scope: json.loads(_vigil(settings, "create-account", "acme", "--scope", scope,
                                     *(["--add-key"] if scope != "read" else [])).stdout)
            for scope in ("read", "write", "member")}
    assert {s: m["scope"] for s, m in made.items()} == {"read": "read", "write": "write", "member": "read"}
    assert [r[0] for r in db.execute("SELECT scope FROM api_keys ORDER BY id")] == ["read", "write", "read"]
    h = bearer(made["write"]["api_key"])
    assert (await client.get("/api/v1/monitors", headers=h)).status_code == 200  # cached now
    assert _vigil(settings, "revoke-key", made["write"]["api_key"]).returncode == 0
    for _ in range(50):
        r = await client.get("/api/v1/monitors", headers=h)
        if r.status_code == 401:
            break
        await asyncio.sleep(0.02)
    assert r.status_code == 401, "the running API still accepts a key revoked a second ago"
