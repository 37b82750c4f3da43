"""Bad input the schemas used to let through to the database (a 500 each), and the safety
net in api/errors.py for whatever else the database refuses or when it is unreachable."""

from __future__ import annotations

import secrets

import pytest
from litestar import Request, get
from litestar.testing import AsyncTestClient

from api.app import create_app
from tests.notify_fixtures import nclient, nsettings  # noqa: F401

M = "/api/v1/monitors"
C = "/api/v1/channels"
N = "/api/v1/notifications"


def _monitor(**kw):
    return {"name": "site", "target": "https://example.com/", **kw}


@pytest.mark.parametrize(("body", "field"), [
    (_monitor(name="a\x00b"), "name"),
    (_monitor(target="https://example.com/\x00"), "target"),
    (_monitor(tags=["ok", "b\x00d"]), "tags.1"),
    (_monitor(expectations={"keyword": "up\x00"}), "expectations.keyword"),
    (_monitor(expectations={"headers": {"X-A\x00": "1"}}), "expectations.headers.X-A"),
])
async def test_a_nul_character_is_400_naming_the_field(client, auth, body, field):
    r = await client.post(M, json=body, headers=auth)
    assert r.status_code == 400, r.text
    assert f"{field}" in r.text and "NUL" in r.text


async def test_a_nul_character_in_a_patch_is_400_and_changes_nothing(client, auth):
    m = (await client.post(M, json=_monitor(), headers=auth)).json()
    r = await client.patch(f"{M}/{m['id']}", json={"name": "x\x00"}, headers=auth)
    assert r.status_code == 400 and "name must not contain NUL" in r.text
    assert (await client.get(f"{M}/{m['id']}", headers=auth)).json()["name"] == "site"


@pytest.mark.parametrize("body", [
    {"name": "a\x00", "kind": "email", "config": {"to": ["ops@example.com"]}},
    {"name": "hook", "kind": "webhook", "config": {"url": "https://h.example.com/x", "secret": "0123456789abcdef\x00"}},
])
async def test_a_nul_character_in_a_channel_is_400_without_echoing_it(nclient, auth, body):  # noqa: F811
    r = await nclient.post(C, json=body, headers=auth)
    assert r.status_code == 400, r.text
    assert "NUL" in r.text and "0123456789abcdef" not in r.text


@pytest.mark.parametrize("slo", [99.9999, 99.99999999999, 0.0004])
async def test_an_slo_that_rounds_to_0_or_100_when_stored_is_400(client, auth, slo):
    r = await client.post(M, json=_monitor(slo_target=slo), headers=auth)
    assert r.status_code == 400, r.text
    assert "slo_target" in r.text


async def test_an_slo_is_stored_at_three_decimals(client, auth):
    r = await client.post(M, json=_monitor(slo_target=99.9994), headers=auth)
    assert r.status_code == 201 and r.json()["slo_target"] == 99.999


@pytest.mark.parametrize(("query", "field"), [
    ("channel_id=99999999999", "channel_id"),
    ("incident_id=99999999999999999999", "incident_id"),
    ("before=99999999999999999999", "before"),
    ("channel_id=-1", "channel_id"),
    ("channel_id=abc", "channel_id"),
])
async def test_an_out_of_range_notification_filter_is_400_naming_it(client, auth, query, field):
    r = await client.get(f"{N}?{query}", headers=auth)
    assert r.status_code == 400, r.text
    assert field in r.text


@pytest.mark.parametrize(("path", "detail"), [
    (f"{M}?limit=abc", "invalid value for limit: Expected `int`"),
    (f"{M}?limit=0&after=-1", "invalid value for limit, after: "),
    (f"{N}?status=bogus", "invalid value for status: Invalid enum value 'bogus'"),
])
async def test_a_bad_query_parameter_is_400_whose_detail_names_it(client, auth, path, detail):
    r = await client.get(path, headers=auth)
    assert r.status_code == 400 and r.json()["detail"].startswith(detail), r.text


async def test_a_bad_body_is_400_whose_detail_names_the_field(client, auth):
    r = await client.post(M, json=_monitor(interval_s=5), headers=auth)
    assert r.status_code == 400 and r.json()["detail"].startswith("invalid value for interval_s: "), r.text
    r = await client.post(M, json=_monitor(name="a\x00"), headers=auth)
    assert r.json()["detail"] == "invalid value for body: Value error, name must not contain NUL (\\u0000) characters"


@pytest.mark.parametrize("path", [f"{M}/99999999999", f"{M}/99999999999999999999999", f"{M}/-1",
                                  f"{M}/99999999999/results", "/api/v1/channels/99999999999",
                                  f"{N}/99999999999999999999"])
async def test_a_huge_or_negative_path_id_is_404(client, auth, path):
    r = await client.get(path, headers=auth)
    assert r.status_code == 404, r.text


@pytest.mark.parametrize(("content", "ctype"), [
    (b"{not json", "application/json"),
    (b"name=x", "application/x-www-form-urlencoded"),
    (b"<monitor/>", "text/xml"),
    (b"", "application/json"),
    (b"[1, 2]", "application/json"),
])
async def test_a_body_that_is_not_a_json_object_is_400(client, auth, content, ctype):
    r = await client.post(M, content=content, headers={**auth, "Content-Type": ctype})
    assert r.status_code == 400, r.text
    assert r.json()["detail"]


@pytest.mark.parametrize("path", [M, C])
async def test_a_json_body_nested_thousands_deep_is_400(client, auth, path):
    body = b'{"name": "x", "tags": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = await client.post(path, content=body, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert "nested too deeply" in r.json()["detail"]


async def test_a_body_that_is_not_utf8_is_400(client, auth):
    r = await client.post(M, content=b'{"name": "\xff\xfe", "target": "https://e.com"}',
                          headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert "UTF-8" in r.json()["detail"]


@pytest.mark.parametrize("target", ["http://example.com:99999/", "https://example.com:0/", "http://example.com:x/"])
async def test_an_http_target_with_an_impossible_port_is_400(client, auth, target):
    r = await client.post(M, json=_monitor(target=target), headers=auth)
    assert r.status_code == 400, r.text
    assert "target" in r.text and "port" in r.text


async def test_a_webhook_url_with_an_impossible_port_is_400(nclient, auth):  # noqa: F811
    r = await nclient.post(C, headers=auth, json={"name": "hook", "kind": "webhook", "config": {
        "url": "https://hooks.example.com:99999/in", "secret": "0123456789abcdef0"}})
    assert r.status_code == 400, r.text
    assert "config.url" in r.text and "port" in r.text


# The safety net: a route that lets a real database error escape, served by the real app.

def _app_with_route(settings, statement: str):
    @get("/escape", exclude_from_auth=True)
    async def escape(request: Request) -> dict:
        async with request.app.state.pool.connection() as conn:
            await conn.execute(statement)
        return {}

    app = create_app(settings)
    app.register(escape)
    return app


@pytest.mark.parametrize(("statement", "status", "words"), [
    ("SELECT 1 / 0", 400, ["division by zero"]),
    ("SELECT 99999999999::integer", 400, ["integer out of range"]),
    ("INSERT INTO accounts (name) VALUES (NULL)", 400, ["name"]),
    ("INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, slo_target, regions) "
     "SELECT id, 'x', 'http', 'https://e.com', 60, 1000, 100, '{local}' FROM accounts", 400, ["slo_target"]),
    ("INSERT INTO api_keys (account_id, prefix, secret_hash, scope) VALUES (987654, 'p', '', 'admin')",
     409, ["account_id"]),
    ("INSERT INTO accounts (name) VALUES ('dup'), ('dup')", 409, ["conflict"]),
])
async def test_a_database_refusal_escaping_a_handler_is_4xx_with_a_message(settings, account, statement,
                                                                           status, words):
    async with AsyncTestClient(app=_app_with_route(settings, statement)) as c:
        r = await c.get("/escape")
    assert r.status_code == status, r.text
    assert all(w in r.json()["detail"] for w in words), r.text


@pytest.mark.timeout(30)
async def test_an_unreachable_database_is_503_with_a_message(settings):
    from vigil.devcluster import free_port

    down = settings.model_copy(update={"database_url": f"postgresql://vigil:pw@127.0.0.1:{free_port()}/vigil"})
    async with AsyncTestClient(app=create_app(down)) as c:
        c.app.state.pool.timeout = 1.0  # the pool's wait for a connection, 10 s in production
        # A prefix no other test used: looked-up keys are cached process-wide for a few seconds.
        r = await c.get(M, headers={"Authorization": f"Bearer vgl_{secrets.token_hex(4)}_secret"})
        assert r.status_code == 503, r.text
        assert "database is unavailable" in r.json()["detail"] and "pw" not in r.text
        r = await c.post("/api/v1/heartbeats/hb_abc")
        assert r.status_code == 503, r.text


async def test_a_connection_lost_mid_request_is_503(settings, account, db):
    async with AsyncTestClient(app=_app_with_route(settings, "SELECT pg_terminate_backend(pg_backend_pid())")) as c:
        r = await c.get("/escape")
    assert r.status_code == 503, r.text



async def test_health_with_a_dependency_down_is_503_and_says_nothing_of_it(settings):
    from vigil.devcluster import free_port

    port = free_port()
    down = settings.model_copy(update={"redis_url": f"redis://:hunter2@127.0.0.1:{port}/0"})
    async with AsyncTestClient(app=create_app(down)) as c:
        r = await c.get("/api/v1/health")
    assert r.status_code == 503, r.text
    assert r.json() == {"status": "degraded"}  # which one is down: the operator's health route
