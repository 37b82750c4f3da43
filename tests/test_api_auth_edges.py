"""Auth edge cases beyond tests/test_api_monitors.py: every write route refuses a read
key with 403, and odd Authorization headers are a 401 with a message, never a 500."""

from __future__ import annotations

import pytest

from tests.notify_fixtures import nclient, nsettings  # noqa: F401
from vigil.accounts import create_account_with_key

WRITES = [
    ("post", "/api/v1/monitors", {"name": "m", "target": "https://example.com/"}),
    ("patch", "/api/v1/monitors/{m}", {"name": "renamed"}),
    ("delete", "/api/v1/monitors/{m}", None),
    ("post", "/api/v1/monitors/{m}/heartbeat-token", None),
    ("post", "/api/v1/channels", {"name": "c", "kind": "email", "config": {"to": ["ops@example.com"]}}),
    ("patch", "/api/v1/channels/{c}", {"name": "renamed"}),
    ("delete", "/api/v1/channels/{c}", None),
    ("post", "/api/v1/channels/{c}/test", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_a_read_key_on_any_write_is_403_and_changes_nothing(nclient, auth, db, method, path, body):  # noqa: F811
    m = (await nclient.post("/api/v1/monitors", headers=auth, json={
        "name": "hb", "kind": "heartbeat", "target": "heartbeat://x"})).json()
    c = (await nclient.post("/api/v1/channels", headers=auth, json={
        "name": "mail", "kind": "email", "config": {"to": ["ops@example.com"]}})).json()
    _, member = create_account_with_key(db, "acme", "read")
    kw = {"headers": {"Authorization": f"Bearer {member}"}}
    if body is not None:
        kw["json"] = body
    r = await getattr(nclient, method)(path.format(m=m["id"], c=c["id"]), **kw)
    assert r.status_code == 403, r.text
    assert "this key's scope is 'read'" in r.json()["detail"]
    assert (await nclient.get(f"/api/v1/monitors/{m['id']}", headers=auth)).json()["name"] == "hb"
    assert (await nclient.get(f"/api/v1/channels/{c['id']}", headers=auth)).json()["name"] == "mail"
    assert db.execute("SELECT count(*) FROM monitors").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM notifications").fetchone()[0] == 0


@pytest.mark.parametrize(("value", "detail"), [
    ("Bearer", "missing API key"),
    ("Bearer    ", "missing API key"),
    ("bearer", "missing API key"),
    ("Token vgl_deadbeef_x", "missing API key"),
    ("Bearer vgl_", "malformed API key"),
    ("Bearer vgl_short_secret", "malformed API key"),
    ("Bearer vgl_deadbeef_", "malformed API key"),
    ("Bearer vgl_deadbeef", "malformed API key"),
    ("Bearer vgl_dead'--;_secret", "invalid or revoked"),
    ("Bearer " + "x" * 20_000, "malformed API key"),
    ("Bearer vgl_deadbeef_" + "s" * 20_000, "invalid or revoked"),
])
async def test_an_odd_authorization_header_is_401_with_a_message(client, account, value, detail):
    r = await client.get("/api/v1/monitors", headers={"Authorization": value})
    assert r.status_code == 401, r.text
    assert detail in r.json()["detail"]


async def test_a_revoked_key_is_refused_once_its_cache_entry_expires(client, db, monkeypatch):
    from api import auth as auth_module

    monkeypatch.setattr(auth_module, "KEY_CACHE_SECONDS", 0.0)
    _, token = create_account_with_key(db, "other", "admin")
    h = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/monitors", headers=h)).status_code == 200
    db.execute("UPDATE api_keys SET revoked_at = now()")
    r = await client.get("/api/v1/monitors", headers=h)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
