"""Users sign in with an email and a password: access and refresh tokens, rotation,
logout, lockout, and the same answer for an unknown email as for a wrong password."""

from __future__ import annotations

import jwt
import pytest

from tests.signin_fixtures import EMAIL, PASSWORD, bearer, sclient, sign_in, ssettings, user  # noqa: F401
from vigil.users import create_user

M = "/api/v1/monitors"
LOGIN = "/api/v1/auth/login"
MONITOR = {"name": "shop", "kind": "http", "target": "https://shop.example.com/", "interval_s": 60}


async def test_a_user_and_an_api_key_of_one_account_see_the_same_monitors(sclient, user, auth):  # noqa: F811
    created = (await sclient.post(M, json=MONITOR, headers=auth)).json()
    tokens = await sign_in(sclient, "ada@example.COM")  # email case does not matter
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
    r = await sclient.get(M, headers=bearer(tokens["access_token"]))
    assert r.status_code == 200, r.text
    assert [m["id"] for m in r.json()] == [created["id"]]
    r = await sclient.post(M, json={**MONITOR, "name": "api"}, headers=bearer(tokens["access_token"]))
    assert r.status_code == 201, r.text


async def test_a_refresh_rotates_and_the_used_token_is_refused(sclient, user):  # noqa: F811
    first = await sign_in(sclient)
    r = await sclient.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await sclient.get(M, headers=bearer(second["access_token"]))).status_code == 200
    again = await sclient.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401 and "refresh token" in again.json()["detail"]
    # The replaced token coming back ends the session: the newest tokens stop working too.
    r = await sclient.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    assert (await sclient.get(M, headers=bearer(second["access_token"]))).status_code == 401


async def test_logout_refuses_the_access_and_the_refresh_token(sclient, user):  # noqa: F811
    tokens = await sign_in(sclient)
    other = await sign_in(sclient)  # a second session stays signed in
    r = await sclient.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 204, r.text
    r = await sclient.get(M, headers=bearer(tokens["access_token"]))
    assert r.status_code == 401 and "sign in again" in r.json()["detail"]
    r = await sclient.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    assert (await sclient.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
            ).status_code == 401
    assert (await sclient.get(M, headers=bearer(other["access_token"]))).status_code == 200


async def test_five_wrong_passwords_lock_the_user_with_retry_after(sclient, user, db):  # noqa: F811
    for _ in range(4):
        r = await sclient.post(LOGIN, json={"email": EMAIL, "password": "wrong password"})
        assert r.status_code == 401, r.text
    r = await sclient.post(LOGIN, json={"email": EMAIL, "password": "wrong password"})
    assert r.status_code == 429, r.text
    assert 890 <= int(r.headers["retry-after"]) <= 900
    r = await sclient.post(LOGIN, json={"email": EMAIL, "password": PASSWORD})  # right, but locked
    assert r.status_code == 429 and "retry in" in r.json()["detail"]
    db.execute("UPDATE users SET locked_until = now() - interval '1 second'")
    await sign_in(sclient)


async def test_a_success_resets_the_failure_count(sclient, user):  # noqa: F811
    for _ in range(4):
        assert (await sclient.post(LOGIN, json={"email": EMAIL, "password": "nope nope"})).status_code == 401
    await sign_in(sclient)
    for _ in range(4):
        assert (await sclient.post(LOGIN, json={"email": EMAIL, "password": "nope nope"})).status_code == 401


async def test_unknown_email_and_wrong_password_get_the_same_answer_and_lockout(sclient, user):  # noqa: F811
    wrong = await sclient.post(LOGIN, json={"email": EMAIL, "password": "wrong password"})
    unknown = await sclient.post(LOGIN, json={"email": "nobody@example.com", "password": "wrong password"})
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()) == (
        401, {"status_code": 401, "detail": "wrong email or password"})
    answers = [await sclient.post(LOGIN, json={"email": "nobody@example.com", "password": "x"})
               for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert 890 <= int(answers[-1].headers["retry-after"]) <= 900


async def test_an_unknown_email_is_checked_against_a_password_hash_too(sclient, monkeypatch):  # noqa: F811
    from argon2 import PasswordHasher

    calls = []
    real = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, h, p: calls.append(h) or real(self, h, p))
    r = await sclient.post(LOGIN, json={"email": "nobody@example.com", "password": "whatever it is"})
    assert r.status_code == 401
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


async def test_a_tampered_expired_or_foreign_token_is_401(sclient, user):  # noqa: F811
    tokens = await sign_in(sclient)
    header, payload, sig = tokens["access_token"].split(".")
    tampered = f"{header}.{payload}.{sig[:-4]}AAAA"
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": claims["iat"] - 60}, "s" * 48, algorithm="HS256")
    foreign = jwt.encode(claims, "another secret that is long enough!!", algorithm="HS256")
    for token in (tampered, expired, foreign):
        r = await sclient.get(M, headers=bearer(token))
        assert r.status_code == 401 and "access token" in r.json()["detail"], r.text


async def test_a_read_user_reads_but_cannot_write(sclient, ssettings, db, account):  # noqa: F811
    create_user(db, ssettings, "acme", "reader@example.com", PASSWORD, "read")
    tokens = await sign_in(sclient, "reader@example.com")
    assert (await sclient.get(M, headers=bearer(tokens["access_token"]))).status_code == 200
    r = await sclient.post(M, json=MONITOR, headers=bearer(tokens["access_token"]))
    assert r.status_code == 403 and "'write' scope" in r.json()["detail"]


async def test_a_disabled_user_cannot_sign_in_or_use_its_token(sclient, user, db):  # noqa: F811
    tokens = await sign_in(sclient)
    db.execute("UPDATE users SET disabled = true")
    r = await sclient.post(LOGIN, json={"email": EMAIL, "password": PASSWORD})
    assert r.status_code == 403 and "disabled" in r.json()["detail"]
    assert (await sclient.get(M, headers=bearer(tokens["access_token"]))).status_code == 403
    r = await sclient.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 403


@pytest.mark.parametrize(("update", "words"), [
    ({"production": True, "jwt_secret": ""}, ["VIGIL_JWT_SECRET", "production"]),
    ({"jwt_secret": "short"}, ["VIGIL_JWT_SECRET", "32"]),
])
async def test_sign_in_without_a_usable_secret_is_refused_clearly(ssettings, user, update, words):  # noqa: F811
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    async with AsyncTestClient(app=create_app(ssettings.model_copy(update=update))) as c:
        r = await c.post(LOGIN, json={"email": EMAIL, "password": PASSWORD})
    assert r.status_code == 503, r.text
    assert all(w in r.json()["detail"] for w in words)


def test_a_generated_secret_is_kept_owner_only_and_reused(tmp_path):
    from vigil.signin import stored_secret

    first = stored_secret(tmp_path / "data")
    assert len(first) >= 32
    assert (tmp_path / "data" / "jwt_secret").stat().st_mode & 0o777 == 0o600
    assert stored_secret(tmp_path / "data") == first


async def test_bad_sign_in_bodies_are_400(sclient):  # noqa: F811
    for body in ({}, {"email": "a@b"}, {"email": "a@b", "password": "x" * 5000}, {"refresh_token": ""}):
        r = await sclient.post(LOGIN, json=body)
        assert r.status_code == 400, r.text
    r = await sclient.post("/api/v1/auth/refresh", json={})
    assert r.status_code == 400


async def test_signing_in_drops_the_users_long_ended_sessions(sclient, user, db):  # noqa: F811
    old = await sign_in(sclient)
    await sclient.post("/api/v1/auth/logout", json={"refresh_token": old["refresh_token"]})
    recent = await sign_in(sclient)
    await sclient.post("/api/v1/auth/logout", json={"refresh_token": recent["refresh_token"]})
    db.execute("UPDATE sessions SET revoked_at = now() - interval '2 days' WHERE revoked_at IS NOT NULL "
               "AND id = (SELECT min(id) FROM sessions)")
    await sign_in(sclient)
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 2  # the recent one and the new one


async def test_each_lockout_lasts_twice_the_one_before_until_a_sign_in_succeeds(sclient, user, db):  # noqa: F811
    async def lock_out() -> int:
        for _ in range(4):
            assert (await sclient.post(LOGIN, json={"email": EMAIL, "password": "nope nope"})).status_code == 401
        r = await sclient.post(LOGIN, json={"email": EMAIL, "password": "nope nope"})
        assert r.status_code == 429, r.text
        db.execute("UPDATE users SET locked_until = now() - interval '1 second'")  # let the time pass
        return int(r.headers["retry-after"])

    assert [await lock_out() for _ in range(3)] == [pytest.approx(900, abs=5), pytest.approx(1800, abs=5),
                                                    pytest.approx(3600, abs=5)]
    await sign_in(sclient)
    assert await lock_out() == pytest.approx(900, abs=5)


async def test_an_unknown_email_is_locked_out_longer_each_time_too(sclient, ssettings):  # noqa: F811
    import redis.asyncio as aioredis

    from vigil.constants import LOGIN_LOCK_KEY

    async def lock_out() -> int:
        answers = [await sclient.post(LOGIN, json={"email": "nobody@example.com", "password": "x"})
                   for _ in range(5)]
        assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
        async with aioredis.from_url(ssettings.redis_url) as r:  # let the time pass
            await r.delete(*[k async for k in r.scan_iter(LOGIN_LOCK_KEY + "*")])
        return int(answers[-1].headers["retry-after"])

    assert [await lock_out(), await lock_out()] == [pytest.approx(900, abs=5), pytest.approx(1800, abs=5)]


async def test_an_address_guessing_across_emails_is_refused_before_any_password_is_checked(
        ssettings, user, monkeypatch):  # noqa: F811
    from argon2 import PasswordHasher
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    settings = ssettings.model_copy(update={"rate_limit_failed_auth_per_minute": 3})
    async with AsyncTestClient(app=create_app(settings)) as client:
        # Each email stays below its own lockout; the address meets its limit.
        codes = [(await client.post(LOGIN, json={"email": f"guess{i}@example.com", "password": "x"})).status_code
                 for i in range(4)]
        assert codes == [401, 401, 401, 429]
        calls = []
        real = PasswordHasher.verify
        monkeypatch.setattr(PasswordHasher, "verify", lambda self, h, p: calls.append(h) or real(self, h, p))
        r = await client.post(LOGIN, json={"email": EMAIL, "password": PASSWORD})  # right, from that address
        assert r.status_code == 429 and "failed authentications" in r.json()["detail"], r.text
        assert int(r.headers["retry-after"]) >= 1 and calls == []
