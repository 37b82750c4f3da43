"""/api/v1/maintenance: one-off and weekly windows, validation, scoping; a window made
through the API silences the evaluator."""

from __future__ import annotations

import pytest

from tests.alerts_fixtures import MINUTE, T0, incidents, make_monitor, make_rule, minutes, tick, write_results
from vigil.accounts import create_account_with_key

W = "/api/v1/maintenance"


async def test_weekly_window_round_trips_and_silences_the_evaluator(client, auth, db, account, pool):
    mid = make_monitor(db, account[0], regions=("eu",))
    make_rule(db, account[0], "down", {"failures": 1}, monitor_id=mid)
    body = {"name": "patch day", "monitor_id": mid,
            "weekly": {"weekdays": [1, 3], "start_time": "12:30:00", "duration_s": 3600, "time_zone": "UTC"}}
    r = await client.post(W, json=body, headers=auth)
    assert r.status_code == 201, r.text
    w = r.json()
    assert w["weekly"] == {**body["weekly"], "weekdays": [1, 3]} and w["starts_at"] is None
    assert (await client.get(f"{W}/{w['id']}", headers=auth)).json() == w
    assert [x["id"] for x in (await client.get(W, params={"monitor_id": mid}, headers=auth)).json()] == [w["id"]]

    write_results(db, mid, "eu", minutes(T0, 60), up=False)
    await tick(pool, T0 + 45 * MINUTE, ("down",))  # Monday 12:45, inside
    assert incidents(db) == []
    r = await client.patch(f"{W}/{w['id']}", json={"weekly": {**body["weekly"], "weekdays": [2]}}, headers=auth)
    assert r.status_code == 200 and r.json()["weekly"]["weekdays"] == [2]
    await tick(pool, T0 + 46 * MINUTE, ("down",))
    assert len(incidents(db)) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"starts_at": "2026-03-02T10:00:00Z"}, "ends_at"),
    ({"starts_at": "2026-03-02T10:00:00Z", "ends_at": "2026-03-02T09:00:00Z"}, "ends_at"),
    ({"starts_at": "2026-03-02T10:00:00", "ends_at": "2026-03-02T11:00:00"}, "starts_at"),
    ({"weekly": {"weekdays": [8], "start_time": "02:00", "duration_s": 3600}}, "weekly.weekdays"),
    ({"weekly": {"weekdays": [1], "start_time": "02:00", "duration_s": 3600, "time_zone": "Mars/Olympus"}},
     "weekly.time_zone"),
    ({"weekly": {"weekdays": [1], "start_time": "02:00", "duration_s": 10 * 86400}}, "weekly.duration_s"),
    ({"monitor_id": 999, "starts_at": "2026-03-02T10:00:00Z", "ends_at": "2026-03-02T11:00:00Z"}, "monitor_id"),
])
async def test_invalid_window_is_400_naming_the_field(client, auth, body, field):
    r = await client.post(W, json=body, headers=auth)
    assert r.status_code == 400, r.text
    assert field in r.json()["detail"] + str(r.json().get("extra"))


async def test_windows_are_scoped_to_the_account_and_admin_only(client, auth, db):
    body = {"starts_at": "2026-03-02T10:00:00Z", "ends_at": "2026-03-02T11:00:00Z"}
    w = (await client.post(W, json=body, headers=auth)).json()
    assert w["monitor_id"] is None
    _, other = create_account_with_key(db, "other", "admin")
    assert (await client.get(f"{W}/{w['id']}", headers={"Authorization": f"Bearer {other}"})).status_code == 404
    _, member = create_account_with_key(db, "acme", "member")
    assert (await client.post(W, json=body, headers={"Authorization": f"Bearer {member}"})).status_code == 403
    assert (await client.delete(f"{W}/{w['id']}", headers=auth)).status_code == 204
    assert (await client.get(W, headers=auth)).json() == []
