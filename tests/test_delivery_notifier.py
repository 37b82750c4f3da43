"""End to end: a channel made through the API, its test notification delivered by a real
`vigil notifier` process, the outcome read back through the API."""

import asyncio
import time

import pytest

from tests.notify_fixtures import *  # noqa: F403 (fixtures)
from tests.notify_fixtures import SECRET
from tests.services import running


@pytest.mark.timeout(60)
async def test_channel_test_endpoint_is_delivered_by_the_notifier_service(nclient, auth, nsettings, receiver):
    from notify.transports.webhook import SIGNATURE_HEADER, verify

    ch = (await nclient.post("/api/v1/channels", headers=auth, json={
        "name": "hook", "kind": "webhook", "config": {"url": receiver.url, "secret": SECRET}})).json()
    nid = (await nclient.post(f"/api/v1/channels/{ch['id']}/test", headers=auth)).json()["notification_id"]
    with running(nsettings, ["notifier"], VIGIL_SECRET_KEY=nsettings.secret_key, VIGIL_NOTIFY_POLL_SECONDS="0.2"):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            detail = (await nclient.get(f"/api/v1/notifications/{nid}", headers=auth)).json()
            if detail["status"] == "sent":
                break
            await asyncio.sleep(0.2)
    assert detail["status"] == "sent", detail
    assert [a["ok"] for a in detail["attempt_log"]] == [True]
    (headers, body), = receiver.requests
    assert verify(SECRET, headers[SIGNATURE_HEADER], body)
    assert receiver.bodies()[0]["event"] == "test"
