"""The cross-tenant matrix, generated from the app's OpenAPI document: every operation that
takes an id, called by another account's admin key with this account's real ids (and a valid
body where it needs one), answers 404, never 200 or 5xx, and changes nothing; list operations
filtered by this account's ids show the other account nothing."""

from __future__ import annotations

import pytest

from api.app import create_app
from api.auth import ApiKeyAuth
from tests.notify_fixtures import nclient, nsettings  # noqa: F401
from vigil.accounts import create_account_with_key
from vigil.settings import Settings

DOCUMENT = create_app(Settings()).openapi_schema.to_schema()
# Tenant operations only: operator routes take no tenant credential at all.
OPERATIONS = sorted((method.upper(), path, op["operationId"], op)
                    for path, ops in DOCUMENT["paths"].items() for method, op in ops.items()
                    if not path.startswith("/api/v1/operator/"))
# The heartbeat ping's token is its own credential, not an account's id.
NOT_IDS = {"token"}
BY_ID = [o for o in OPERATIONS
         if any(p["in"] == "path" and p["name"] not in NOT_IDS for p in o[3].get("parameters", []))]
FILTERED = [o for o in OPERATIONS if o[0] == "GET" and not any(p["in"] == "path" for p in o[3].get("parameters", []))
            and any(p["in"] == "query" and p["name"].endswith("_id") for p in o[3].get("parameters", []))]
# A valid body for each operation that needs one, so the answer is about the id, not the body.
BODIES = {
    "updateMonitor": {"name": "taken"},
    "updateChannel": {"name": "taken"},
    "updateRule": {"name": "taken"},
    "updateMaintenanceWindow": {"name": "taken"},
    "updateStatusPage": {"title": "taken"},
    "updateStatusIncident": {"title": "taken"},
    "addStatusIncidentUpdate": {"status": "resolved", "message": "taken"},
}


@pytest.fixture(autouse=True)
def empty_key_cache():
    ApiKeyAuth.drop()
    yield
    ApiKeyAuth.drop()


async def _rows(c, h: dict, db, account_id: int) -> dict[str, int]:
    """One row of every kind an id names, owned by account ``account_id``."""
    monitor = (await c.post("/api/v1/monitors", headers=h, json={
        "name": "hb", "kind": "heartbeat", "target": "heartbeat://tenant", "interval_s": 60})).json()["id"]
    assert (await c.post(f"/api/v1/monitors/{monitor}/heartbeat-token", headers=h)).status_code == 201
    channel = (await c.post("/api/v1/channels", headers=h, json={
        "name": "mail", "kind": "email", "config": {"to": ["ops@example.com"]}})).json()["id"]
    notification = (await c.post(f"/api/v1/channels/{channel}/test", headers=h)).json()["notification_id"]
    rule = (await c.post("/api/v1/rules", headers=h, json={
        "name": "down", "condition": {"kind": "down"}, "monitor_id": monitor, "channel_ids": [channel]})).json()["id"]
    window = (await c.post("/api/v1/maintenance", headers=h, json={
        "name": "w", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z"})).json()["id"]
    key = (await c.post("/api/v1/keys", headers=h, json={"scope": "read"})).json()["id"]
    incident = db.execute(
        "INSERT INTO incidents (account_id, rule_id, monitor_id, state, started_at, last_evaluated_at) "
        "VALUES (%s, %s, %s, 'pending', now(), now()) RETURNING id", (account_id, rule, monitor)).fetchone()[0]
    page = (await c.post("/api/v1/status-pages", headers=h, json={
        "slug": f"page-{account_id}", "title": "Status", "sections": [
            {"name": "All", "monitors": [{"monitor_id": monitor, "display_name": "Site"}]}]})).json()["id"]
    status_incident = (await c.post("/api/v1/status-pages/incidents", headers=h, json={
        "title": "Slow", "impact": "minor", "monitor_ids": [monitor], "message": "Looking."})).json()["id"]
    return {"monitor_id": monitor, "channel_id": channel, "notification_id": notification, "rule_id": rule,
            "window_id": window, "key_id": key, "incident_id": incident, "page_id": page,
            "status_incident_id": status_incident}


def _table_counts(db) -> dict[str, int]:
    return {t: db.execute(f"SELECT count(*) FROM {t} WHERE NOT {cond}").fetchone()[0] for t, cond in (
        ("monitors", "false"), ("channels", "false"), ("alert_rules", "false"), ("maintenance_windows", "false"),
        ("api_keys", "revoked_at IS NOT NULL"), ("notifications", "false"), ("incidents", "false"))}


@pytest.mark.parametrize(("method", "path", "operation_id", "op"), BY_ID, ids=[o[2] for o in BY_ID])
async def test_another_accounts_id_is_404_and_changes_nothing(nclient, db, method, path, operation_id, op):  # noqa: F811
    acme, acme_key = create_account_with_key(db, "acme", "admin")
    ids = await _rows(nclient, {"Authorization": f"Bearer {acme_key}"}, db, acme)
    _, globex_key = create_account_with_key(db, "globex", "admin")
    before = _table_counts(db)
    url = path
    for p in op["parameters"]:
        if p["in"] == "path":
            assert p["name"] in ids, f"{operation_id}: no row for path parameter {p['name']!r}"
            url = url.replace("{" + p["name"] + "}", str(ids[p["name"]]))
    kw = {}
    if "requestBody" in op:
        assert operation_id in BODIES, f"{operation_id} needs a body: add a valid one to BODIES"
        kw["json"] = BODIES[operation_id]
    required = {p["name"]: "x" for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")}
    r = await nclient.request(method, url, params=required, headers={"Authorization": f"Bearer {globex_key}"}, **kw)
    assert r.status_code == 404, f"{operation_id} with another account's ids: {r.status_code} {r.text}"
    assert _table_counts(db) == before
    acme_h = {"Authorization": f"Bearer {acme_key}"}
    assert (await nclient.get(f"/api/v1/monitors/{ids['monitor_id']}", headers=acme_h)).json()["name"] == "hb"
    assert (await nclient.get(f"/api/v1/channels/{ids['channel_id']}", headers=acme_h)).json()["name"] == "mail"


@pytest.mark.parametrize(("method", "path", "operation_id", "op"), FILTERED, ids=[o[2] for o in FILTERED])
async def test_a_list_filtered_by_another_accounts_id_shows_nothing(nclient, db, method, path, operation_id, op):  # noqa: F811
    acme, acme_key = create_account_with_key(db, "acme", "admin")
    ids = await _rows(nclient, {"Authorization": f"Bearer {acme_key}"}, db, acme)
    _, globex_key = create_account_with_key(db, "globex", "admin")
    for p in op["parameters"]:
        if p["in"] == "query" and p["name"] in ids:
            r = await nclient.get(path, params={p["name"]: ids[p["name"]]},
                                  headers={"Authorization": f"Bearer {globex_key}"})
            assert r.status_code in (200, 404), r.text
            assert r.status_code == 404 or r.json() == [], f"{operation_id}?{p['name']}=: {r.text}"
