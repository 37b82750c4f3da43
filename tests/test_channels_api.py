import json

import pytest

from tests.notify_fixtures import *  # noqa: F403 (fixtures)
from tests.notify_fixtures import SECRET
from vigil.accounts import create_account_with_key

C = "/api/v1/channels"
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"


async def test_create_read_update_delete_a_webhook_channel(nclient, auth):
    r = await nclient.post(C, json={"name": "ops", "kind": "webhook",
                                    "config": {"url": "https://hooks.example.com/vigil", "secret": SECRET}},
                           headers=auth)
    assert r.status_code == 201, r.text
    ch = r.json()
    assert ch["config"] == {"url": "https://hooks.example.com/vigil"} and ch["has_secret"] is True
    r = await nclient.patch(f"{C}/{ch['id']}", json={"name": "ops2", "config": {"url": "https://b.example.com/x"}},
                            headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "ops2" and r.json()["has_secret"] is True  # secret kept
    assert [c["id"] for c in (await nclient.get(C, headers=auth)).json()] == [ch["id"]]
    assert (await nclient.delete(f"{C}/{ch['id']}", headers=auth)).status_code == 204
    assert (await nclient.get(f"{C}/{ch['id']}", headers=auth)).status_code == 404


async def test_secrets_never_appear_in_api_responses_or_in_clear_in_the_database(nclient, auth, db):
    bodies = []
    r = await nclient.post(C, json={"name": "hook", "kind": "webhook",
                                    "config": {"url": "https://hooks.example.com/v", "secret": SECRET}}, headers=auth)
    bodies.append(r.text)
    r2 = await nclient.post(C, json={"name": "slack", "kind": "slack", "config": {"url": SLACK_URL}}, headers=auth)
    bodies.append(r2.text)
    assert r2.json()["config"] == {"url_masked": "https://hooks.slack.com/****"}
    bodies.append((await nclient.get(C, headers=auth)).text)
    bodies.append((await nclient.get(f"{C}/{r2.json()['id']}", headers=auth)).text)
    bodies.append((await nclient.patch(f"{C}/{r2.json()['id']}", json={"enabled": False}, headers=auth)).text)
    bodies.append((await nclient.get("/api/v1/schema/openapi.json")).text)
    for text in bodies:
        assert SECRET not in text and "XXXXSECRETXXXX" not in text
    stored = db.execute("SELECT config::text, secret_ciphertext FROM channels").fetchall()
    for config, cipher in stored:
        assert SECRET not in config and "XXXXSECRETXXXX" not in config
        assert SECRET.encode() not in bytes(cipher) and b"XXXXSECRETXXXX" not in bytes(cipher)


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "kind": "webhook", "config": {"url": "ftp://e.com/x", "secret": SECRET}}, "config.url"),
    ({"name": "x", "kind": "webhook", "config": {"url": "https://e.com/x", "secret": "short"}}, "config.secret"),
    ({"name": "x", "kind": "webhook", "config": {"url": "https://e.com/x"}}, "config.secret"),
    ({"name": "x", "kind": "slack", "config": {}}, "config.url"),
    ({"name": "x", "kind": "discord", "config": {"url": "https://e.com/x", "colour": 1}}, "config.colour"),
    ({"name": "x", "kind": "email", "config": {"to": []}}, "config.to"),
    ({"name": "x", "kind": "email", "config": {"to": ["not-an-address"]}}, "config.to"),
    ({"name": "x", "kind": "pager", "config": {}}, "kind"),
    ({"name": "", "kind": "email", "config": {"to": ["a@b.example"]}}, "name"),
])
async def test_invalid_channel_is_400_naming_the_field(nclient, auth, body, field):
    r = await nclient.post(C, json=body, headers=auth)
    assert r.status_code == 400, r.text
    assert field in r.text, r.text


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://10.1.2.3/x", "http://[::1]/x",
                                 "http://169.254.169.254/latest", "http://localhost/x", "http://localhost./x",
                                 "http://2130706433/x", "http://0x7f000001/x", "http://0177.0.0.1/x",
                                 "http://127.1/x", "http://sub.localhost:8080/x"])
async def test_private_address_channel_is_refused_when_not_allowed(nsettings, auth, url):
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    strict = nsettings.model_copy(update={"allow_private_targets": False})
    async with AsyncTestClient(app=create_app(strict)) as client:
        r = await client.post(C, json={"name": "x", "kind": "webhook", "config": {"url": url, "secret": SECRET}},
                              headers=auth)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert "config.url" in detail and ("VIGIL_ALLOW_PRIVATE_TARGETS" in detail or "metadata" in detail)


async def test_member_reads_but_cannot_change_channels_and_other_accounts_see_nothing(nclient, auth, db):
    ch = (await nclient.post(C, json={"name": "m", "kind": "email", "config": {"to": ["a@b.example"]}},
                             headers=auth)).json()
    _, member = create_account_with_key(db, "acme", "member")
    mh = {"Authorization": f"Bearer {member}"}
    assert (await nclient.get(f"{C}/{ch['id']}", headers=mh)).status_code == 200
    assert (await nclient.post(C, json={"name": "n", "kind": "email", "config": {"to": ["a@b.example"]}},
                               headers=mh)).status_code == 403
    assert (await nclient.post(f"{C}/{ch['id']}/test", headers=mh)).status_code == 403
    _, other = create_account_with_key(db, "globex", "admin")
    oh = {"Authorization": f"Bearer {other}"}
    assert (await nclient.get(f"{C}/{ch['id']}", headers=oh)).status_code == 404
    assert (await nclient.post(f"{C}/{ch['id']}/test", headers=oh)).status_code == 404
    assert (await nclient.get(C, headers=oh)).json() == []


async def test_test_endpoint_queues_a_notification_visible_in_the_api(nclient, auth, db):
    ch = (await nclient.post(C, json={"name": "m", "kind": "email", "config": {"to": ["a@b.example"]}},
                             headers=auth)).json()
    r = await nclient.post(f"{C}/{ch['id']}/test", headers=auth)
    assert r.status_code == 202, r.text
    nid = r.json()["notification_id"]
    assert r.json()["status"] == "pending"
    listed = (await nclient.get("/api/v1/notifications", params={"event": "test"}, headers=auth)).json()
    assert [n["id"] for n in listed] == [nid]
    detail = (await nclient.get(f"/api/v1/notifications/{nid}", headers=auth)).json()
    assert detail["channel_id"] == ch["id"] and detail["attempt_log"] == []
    assert json.dumps(detail["payload"]).find("Test notification") > 0


async def test_without_a_secret_key_a_secret_channel_is_refused_with_503_naming_the_setting(nsettings, auth):
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    keyless = nsettings.model_copy(update={"secret_key": ""})
    async with AsyncTestClient(app=create_app(keyless)) as client:
        r = await client.post(C, json={"name": "x", "kind": "slack", "config": {"url": SLACK_URL}}, headers=auth)
        assert r.status_code == 503 and "VIGIL_SECRET_KEY" in r.json()["detail"]
        r = await client.post(C, json={"name": "m", "kind": "email", "config": {"to": ["a@b.example"]}}, headers=auth)
        assert r.status_code == 201 and r.json()["has_secret"] is False  # email keeps no secret


async def test_patching_a_slack_channel_without_its_url_keeps_the_url(nclient, auth, db, nsettings):
    from notify.crypto import decrypt_secrets

    ch = (await nclient.post(C, json={"name": "s", "kind": "slack", "config": {"url": SLACK_URL}}, headers=auth)).json()
    r = await nclient.patch(f"{C}/{ch['id']}", json={"config": {}}, headers=auth)
    assert r.status_code == 200, r.text
    cipher = db.execute("SELECT secret_ciphertext FROM channels WHERE id = %s", (ch["id"],)).fetchone()[0]
    assert decrypt_secrets(nsettings.secret_key, cipher) == {"url": SLACK_URL}


async def test_credentials_in_a_webhook_url_are_masked_for_every_reader(nclient, auth, db):
    url = "https://alice:s3cr3t-pass@hooks.example.com/vigil?x=1"
    r = await nclient.post(C, json={"name": "h", "kind": "webhook", "config": {"url": url, "secret": SECRET}},
                           headers=auth)
    assert r.status_code == 201, r.text
    masked = "https://****@hooks.example.com/vigil?x=1"
    assert r.json()["config"]["url"] == masked
    _, member = create_account_with_key(db, "acme", "member")
    mh = {"Authorization": f"Bearer {member}"}
    for text in ((await nclient.get(f"{C}/{r.json()['id']}", headers=mh)).text,
                 (await nclient.get(C, headers=mh)).text):
        assert "s3cr3t-pass" not in text and "alice" not in text and masked in text
    r = await nclient.patch(f"{C}/{r.json()['id']}", json={"config": {"url": masked}}, headers=auth)
    assert r.status_code == 400 and "masked" in r.json()["detail"], r.text
