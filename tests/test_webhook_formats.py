"""Slack and Discord receive their own message formats (checked at loopback receivers)."""

import pytest

from notify.delivery import deliver_due
from tests.notify_fixtures import *  # noqa: F403 (fixtures)
from tests.notify_fixtures import INCIDENT_PAYLOAD, add_notification, make_channel


@pytest.mark.timeout(30)
async def test_slack_gets_a_colored_attachment_with_blocks(db, account, nsettings, receiver, transport_ctx, npool):
    ch = make_channel(db, nsettings, account[0], "slack", {"url": receiver.url})
    add_notification(db, account[0], ch, "s1")
    add_notification(db, account[0], ch, "s2", {**INCIDENT_PAYLOAD, "state": "resolved"}, event="resolved")
    await deliver_due(npool, transport_ctx)
    firing, resolved = sorted(receiver.bodies(), key=lambda b: b["attachments"][0]["color"], reverse=True)
    assert firing["text"] == "[FIRING] shop: shop is down in 2 of 3 regions"
    att = firing["attachments"][0]
    assert att["color"] == "#d93025" and resolved["attachments"][0]["color"] == "#188038"
    assert att["blocks"][0]["type"] == "section" and "*[FIRING] shop*" in att["blocks"][0]["text"]["text"]
    fields = [f["text"] for f in att["blocks"][1]["fields"]]
    assert "*Severity*\ncritical" in fields and "*Rule*\nshop down" in fields
    assert resolved["text"].startswith("[RESOLVED] shop")


@pytest.mark.timeout(30)
async def test_discord_gets_an_embed(db, account, nsettings, receiver, transport_ctx, npool):
    receiver.ok_status = 204  # what Discord answers
    ch = make_channel(db, nsettings, account[0], "discord", {"url": receiver.url})
    nid = add_notification(db, account[0], ch, "d1")
    attempts = await deliver_due(npool, transport_ctx)
    assert [(a.id, a.ok, a.status_code) for a in attempts] == [(nid, True, 204)]
    (body,) = receiver.bodies()
    (embed,) = body["embeds"]
    assert embed["title"] == "[FIRING] shop" and embed["color"] == 0xD93025
    assert embed["description"] == "shop is down in 2 of 3 regions"
    assert {"name": "Target", "value": "https://shop.example.com/health", "inline": True} in embed["fields"]
    assert body["allowed_mentions"] == {"parse": []}  # a summary can never ping @everyone


@pytest.mark.timeout(30)
async def test_a_disabled_channel_dead_letters_without_sending(db, account, nsettings, receiver,
                                                               transport_ctx, npool):
    ch = make_channel(db, nsettings, account[0], "discord", {"url": receiver.url})
    db.execute("UPDATE channels SET enabled = false")
    nid = add_notification(db, account[0], ch, "d2")
    await deliver_due(npool, transport_ctx)
    assert receiver.requests == []
    assert db.execute("SELECT status, last_error FROM notifications WHERE id = %s", (nid,)).fetchone() == (
        "dead", "channel is disabled")
