"""/api/v1/incidents: list with filters, one incident with its notifications' status."""

from __future__ import annotations

from tests.alerts_fixtures import (
    MINUTE,
    T0,
    make_channel,
    make_monitor,
    make_rule,
    minutes,
    tick,
    write_results,
)
from vigil.accounts import create_account_with_key

INC = "/api/v1/incidents"


async def test_incidents_list_filters_and_detail_shows_notifications(client, auth, db, account, pool):
    acc = account[0]
    a, b = make_monitor(db, acc, "a", regions=("eu",)), make_monitor(db, acc, "b", regions=("eu",))
    ch = make_channel(db, acc)
    make_rule(db, acc, "down", {"failures": 1}, channel_ids=[ch], name="any down")
    write_results(db, a, "eu", minutes(T0, 3), up=False)
    write_results(db, a, "eu", minutes(T0 + 3 * MINUTE, 3), up=True)
    write_results(db, b, "eu", minutes(T0, 6), up=False)
    for i in range(1, 6):
        await tick(pool, T0 + i * MINUTE, ("down",))
    db.execute("UPDATE notifications SET status = 'sent', attempts = 1, sent_at = now() WHERE event = 'firing'")

    all_ = (await client.get(INC, headers=auth)).json()
    assert {(x["monitor_name"], x["state"]) for x in all_} == {("a", "resolved"), ("b", "firing")}
    firing = (await client.get(INC, params={"state": "firing"}, headers=auth)).json()
    assert [x["monitor_id"] for x in firing] == [b]
    of_a = (await client.get(INC, params={"monitor_id": a}, headers=auth)).json()
    assert [x["state"] for x in of_a] == ["resolved"]
    assert of_a[0]["rule_name"] == "any down" and of_a[0]["severity"] == "critical"

    detail = (await client.get(f"{INC}/{of_a[0]['id']}", headers=auth)).json()
    assert [(n["event"], n["status"], n["channel_id"]) for n in detail["notifications"]] == [
        ("firing", "sent", ch), ("resolved", "pending", ch)]
    assert detail["resolved_at"] is not None and "failed slot" in detail["summary"]

    assert (await client.get(INC, params={"state": "sleeping"}, headers=auth)).status_code == 400
    _, other = create_account_with_key(db, "other", "admin")
    assert (await client.get(f"{INC}/{of_a[0]['id']}", headers={"Authorization": f"Bearer {other}"})).status_code == 404
    assert (await client.get(INC, headers={"Authorization": f"Bearer {other}"})).json() == []
