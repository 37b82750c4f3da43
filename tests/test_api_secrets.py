"""No secret is ever echoed by a GET or stored in plain text: channel secrets (a webhook's
signing secret, a Slack URL), heartbeat tokens and API keys."""

from __future__ import annotations

import re

import psycopg

from api.app import create_app
from tests.notify_fixtures import nclient, nsettings  # noqa: F401

WEBHOOK_SECRET = "whsec-do-not-echo-0123456789"
SLACK_URL = "https://hooks.slack.com/services/T000/B000/slacksecretdonotecho"


# The areas this test covers; rules, incidents, stats, maintenance and dead letters have their own.
AREAS = ("/api/v1/health", "/api/v1/monitors", "/api/v1/heartbeats", "/api/v1/channels", "/api/v1/notifications")


def _get_paths(ids: dict[str, object]) -> list[str]:
    """Every GET route of these areas in the app's OpenAPI document, path parameters filled
    with real ids."""
    doc = create_app().openapi_schema.to_schema()
    paths = [p for p, ops in doc["paths"].items() if "get" in ops and p.startswith(AREAS)]
    filled = [re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), p) for p in paths]
    return filled + [f"{p}?limit=5" for p in filled if "{" not in p]


def _table_text(conn: psycopg.Connection, table: str) -> str:
    return "\n".join(str(r) for r in conn.execute(f"SELECT t::text FROM {table} t"))  # every column


async def test_no_get_answer_and_no_table_holds_a_secret(nclient, nsettings, account, db):  # noqa: F811
    api_key = account[1]
    auth = {"Authorization": f"Bearer {api_key}"}
    hook = (await nclient.post("/api/v1/channels", headers=auth, json={
        "name": "hook", "kind": "webhook",
        "config": {"url": "https://hooks.example.com/in", "secret": WEBHOOK_SECRET}})).json()
    slack = (await nclient.post("/api/v1/channels", headers=auth, json={
        "name": "chat", "kind": "slack", "config": {"url": SLACK_URL}})).json()
    monitor = (await nclient.post("/api/v1/monitors", headers=auth, json={
        "name": "nightly", "kind": "heartbeat", "target": "heartbeat://nightly", "interval_s": 3600})).json()
    token = (await nclient.post(f"/api/v1/monitors/{monitor['id']}/heartbeat-token", headers=auth)).json()["token"]
    sent = (await nclient.post(f"/api/v1/channels/{hook['id']}/test", headers=auth)).json()
    await nclient.patch(f"/api/v1/channels/{slack['id']}", headers=auth, json={"name": "chat2"})
    secrets = [WEBHOOK_SECRET, SLACK_URL, "slacksecretdonotecho", token, api_key, api_key.split("_", 2)[2]]

    ids = {"monitor_id": monitor["id"], "channel_id": hook["id"], "notification_id": sent["notification_id"],
           "token": token}
    answers = {}
    for path in _get_paths(ids) + [f"/api/v1/channels/{slack['id']}"]:
        r = await nclient.get(path, headers=auth)
        answers[path] = r
        assert r.status_code == 200, (path, r.text)
        assert not [s for s in secrets if s in r.text], path
    assert answers[f"/api/v1/channels/{hook['id']}"].json()["has_secret"] is True
    assert "/api/v1/notifications" in answers and "/api/v1/heartbeats/" + token in answers

    for table in ("api_keys", "channels", "heartbeat_tokens", "notifications", "monitors"):
        text = _table_text(db, table)
        assert text, table
        assert not [s for s in secrets if s in text], table


async def test_a_channel_update_that_keeps_the_secret_does_not_echo_it(nclient, auth):  # noqa: F811
    hook = (await nclient.post("/api/v1/channels", headers=auth, json={
        "name": "hook", "kind": "webhook",
        "config": {"url": "https://hooks.example.com/in", "secret": WEBHOOK_SECRET}})).json()
    r = await nclient.patch(f"/api/v1/channels/{hook['id']}", headers=auth,
                            json={"config": {"url": "https://hooks.example.com/new"}})
    assert r.status_code == 200 and r.json()["has_secret"] is True
    assert WEBHOOK_SECRET not in r.text
    r = await nclient.patch(f"/api/v1/channels/{hook['id']}", headers=auth,
                            json={"config": {"url": "ftp://bad", "secret": WEBHOOK_SECRET}})
    assert r.status_code == 400 and WEBHOOK_SECRET not in r.text

