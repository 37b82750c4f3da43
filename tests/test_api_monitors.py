import pytest

from vigil.accounts import create_account_with_key

M = "/api/v1/monitors"


def _monitor(**kw):
    return {"name": "site", "target": "https://example.com/", **kw}


async def test_create_get_list_update_delete(client, auth):
    r = await client.post(M, json=_monitor(interval_s=30, tags=["web"]), headers=auth)
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["kind"] == "http" and m["interval_s"] == 30 and m["regions"] == ["local"]
    assert (await client.get(f"{M}/{m['id']}", headers=auth)).json()["name"] == "site"
    assert [x["id"] for x in (await client.get(M, headers=auth)).json()] == [m["id"]]

    r = await client.patch(f"{M}/{m['id']}", json={"interval_s": 120, "enabled": False}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["interval_s"] == 120 and r.json()["enabled"] is False and r.json()["name"] == "site"

    assert (await client.delete(f"{M}/{m['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"{M}/{m['id']}", headers=auth)).status_code == 404


async def test_list_pages_with_after(client, auth):
    ids = [(await client.post(M, json=_monitor(name=f"m{i}"), headers=auth)).json()["id"] for i in range(5)]
    page1 = (await client.get(M, params={"limit": 2}, headers=auth)).json()
    page2 = (await client.get(M, params={"limit": 2, "after": page1[-1]["id"]}, headers=auth)).json()
    assert [m["id"] for m in page1 + page2] == ids[:4]


@pytest.mark.parametrize(("headers", "detail"), [
    ({}, "missing API key"),
    ({"Authorization": "Basic abc"}, "missing API key"),
    ({"Authorization": "Bearer nonsense"}, "malformed API key"),
    ({"Authorization": "Bearer vgl_deadbeef_wrongsecret"}, "invalid or revoked"),
])
async def test_requests_without_a_valid_key_get_401(client, account, headers, detail):
    r = await client.get(M, headers=headers)
    assert r.status_code == 401
    assert detail in r.json()["detail"]


async def test_a_right_prefix_with_a_wrong_secret_is_refused(client, account):
    prefix = account[1].split("_")[1]
    r = await client.get(M, headers={"Authorization": f"Bearer vgl_{prefix}_not-the-secret"})
    assert r.status_code == 401


async def test_revoked_key_is_refused(client, db):
    _, token = create_account_with_key(db, "other", "admin")
    db.execute("UPDATE api_keys SET revoked_at = now()")
    r = await client.get(M, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


async def test_read_key_can_read_but_not_write(client, db, auth):
    created = (await client.post(M, json=_monitor(), headers=auth)).json()
    _, member = create_account_with_key(db, "acme", "read")
    h = {"Authorization": f"Bearer {member}"}
    assert (await client.get(f"{M}/{created['id']}", headers=h)).status_code == 200
    r = await client.post(M, json=_monitor(), headers=h)
    assert r.status_code == 403 and "'write' scope" in r.json()["detail"]


async def test_another_accounts_monitor_is_404(client, db, auth):
    mine = (await client.post(M, json=_monitor(), headers=auth)).json()
    _, other = create_account_with_key(db, "globex", "admin")
    h = {"Authorization": f"Bearer {other}"}
    for method in ("get", "delete"):
        assert (await getattr(client, method)(f"{M}/{mine['id']}", headers=h)).status_code == 404
    assert (await client.patch(f"{M}/{mine['id']}", json={"name": "x"}, headers=h)).status_code == 404
    assert (await client.get(f"{M}/{mine['id']}/results", headers=h)).status_code == 404
    assert (await client.get(M, headers=h)).json() == []


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "target": "ftp://example.com"}, "target"),
    ({"name": "x", "target": "https://e.com", "interval_s": 5}, "interval_s"),
    ({"name": "x", "target": "https://e.com", "timeout_ms": 50}, "timeout_ms"),
    ({"name": "x", "target": "https://e.com", "interval_s": 10, "timeout_ms": 20000}, "timeout_ms"),
    ({"name": "x", "target": "https://e.com", "regions": ["EU West"]}, "regions"),
    ({"name": "x", "target": "https://e.com", "slo_target": 100}, "slo_target"),
    ({"name": "x", "target": "https://e.com", "kind": "smtp"}, "kind"),
    ({"name": "x", "kind": "tcp", "target": "tcp://db.example.com"}, "target"),
    ({"name": "", "target": "https://e.com"}, "name"),
    ({"name": "x", "target": "https://e.com", "expectations": {"atempts": 3}}, "atempts"),
    ({"name": "x", "target": "https://e.com", "colour": "red"}, "colour"),
])
async def test_invalid_monitor_is_400_naming_the_field(client, auth, body, field):
    r = await client.post(M, json=body, headers=auth)
    assert r.status_code == 400, r.text
    assert field in r.text


async def test_invalid_patch_is_400_and_changes_nothing(client, auth):
    m = (await client.post(M, json=_monitor(), headers=auth)).json()
    r = await client.patch(f"{M}/{m['id']}", json={"interval_s": 1}, headers=auth)
    assert r.status_code == 400 and "interval_s" in r.text
    assert (await client.get(f"{M}/{m['id']}", headers=auth)).json()["interval_s"] == 60


async def test_malformed_json_is_400(client, auth):
    r = await client.post(M, content=b"{not json", headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400


async def test_health_says_only_ok(client):
    r = await client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_openapi_schema_is_served(client):
    r = await client.get("/api/v1/schema/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/monitors" in r.json()["paths"]


async def test_region_quorum_cannot_exceed_the_regions(client, auth):
    r = await client.post(M, json=_monitor(regions=["eu", "us"], region_quorum=3), headers=auth)
    assert r.status_code == 400 and "region_quorum" in r.text
    r = await client.post(M, json=_monitor(regions=["eu", "us", "ap"], region_quorum=2), headers=auth)
    assert r.status_code == 201 and r.json()["region_quorum"] == 2
