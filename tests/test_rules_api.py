"""/api/v1/rules: CRUD, validation naming the field, account scoping and roles."""

from __future__ import annotations

import pytest

from tests.alerts_fixtures import make_channel, make_monitor
from vigil.accounts import create_account_with_key

R = "/api/v1/rules"


@pytest.fixture
def setup(db, account):
    mid = make_monitor(db, account[0], regions=("eu", "us", "ap"), quorum=2)
    return mid, make_channel(db, account[0])


@pytest.mark.parametrize("condition", [
    {"kind": "down", "failures": 3, "quorum": 2},
    {"kind": "latency", "percentile": 99, "window_s": 600, "threshold_ms": 800},
    {"kind": "uptime", "window_s": 86400, "target_pct": 99.5},
    {"kind": "tls_expiry", "days": 21},
    {"kind": "heartbeat", "grace_s": 30},
    {"kind": "slo_burn_rate"},
])
async def test_each_rule_kind_round_trips(client, auth, setup, condition):
    mid, ch = setup
    body = {"name": "r", "monitor_id": mid, "condition": condition, "channel_ids": [ch],
            "severity": "warning", "renotify_s": 3600, "recovery_slots": 2}
    r = await client.post(R, json=body, headers=auth)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["condition"]["kind"] == condition["kind"]
    assert {k: rule["condition"][k] for k in condition} == condition
    got = (await client.get(f"{R}/{rule['id']}", headers=auth)).json()
    assert got == rule
    if condition["kind"] == "slo_burn_rate":  # the workbook's defaults for a 30-day SLO
        assert [(w["long_s"], w["short_s"], w["factor"]) for w in got["condition"]["windows"]] == [
            (3600, 300, 14.4), (21600, 1800, 6.0), (259200, 21600, 1.0)]


@pytest.mark.parametrize(("body", "field"), [
    ({"condition": {"kind": "down", "failures": 0}}, "condition.down.failures"),
    ({"condition": {"kind": "latency", "percentile": 95}}, "condition.latency.threshold_ms"),
    ({"condition": {"kind": "uptime", "target_pct": 101}}, "condition.uptime.target_pct"),
    ({"condition": {"kind": "sometimes"}}, "condition"),
    ({"condition": {"kind": "slo_burn_rate", "windows": [{"long_s": 300, "short_s": 3600, "factor": 2}]}},
     "condition.slo_burn_rate.windows.0"),
    ({"severity": "apocalyptic"}, "severity"),
    ({"renotify_s": 5}, "renotify_s"),
    ({"name": ""}, "name"),
])
async def test_invalid_rule_is_400_naming_the_field(client, auth, setup, body, field):
    base = {"name": "r", "condition": {"kind": "down"}}
    r = await client.post(R, json=base | body, headers=auth)
    assert r.status_code == 400, r.text
    assert field in r.json()["detail"] + str(r.json().get("extra"))


async def test_monitor_or_channel_of_another_account_is_refused(client, auth, db, setup):
    other = create_account_with_key(db, "other", "admin")[0]
    foreign_monitor, foreign_channel = make_monitor(db, other, "theirs"), make_channel(db, other)
    r = await client.post(R, json={"name": "r", "condition": {"kind": "down"}, "monitor_id": foreign_monitor},
                          headers=auth)
    assert r.status_code == 400 and "monitor_id" in r.json()["detail"]
    r = await client.post(R, json={"name": "r", "condition": {"kind": "down"}, "channel_ids": [foreign_channel]},
                          headers=auth)
    assert r.status_code == 400 and "channel_ids" in r.json()["detail"]
    r = await client.post(R, json={"name": "r", "condition": {"kind": "down"}, "monitor_id": setup[0], "tag": "x"},
                          headers=auth)
    assert r.status_code == 400


async def test_patch_delete_and_scoping(client, auth, db, setup):
    rule = (await client.post(R, json={"name": "r", "condition": {"kind": "down"}, "tag": "web"},
                              headers=auth)).json()
    r = await client.patch(f"{R}/{rule['id']}", json={"condition": {"kind": "down", "failures": 5},
                                                      "monitor_id": setup[0]}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["condition"]["failures"] == 5 and r.json()["monitor_id"] == setup[0] and r.json()["tag"] is None
    r = await client.patch(f"{R}/{rule['id']}", json={"recovery_slots": 0}, headers=auth)
    assert r.status_code == 400 and "recovery_slots" in r.json()["detail"]

    _, other_key = create_account_with_key(db, "other", "admin")
    other = {"Authorization": f"Bearer {other_key}"}
    assert (await client.get(f"{R}/{rule['id']}", headers=other)).status_code == 404
    assert (await client.get(R, headers=other)).json() == []
    assert (await client.delete(f"{R}/{rule['id']}", headers=other)).status_code == 404

    _, member_key = create_account_with_key(db, "acme", "member")
    member = {"Authorization": f"Bearer {member_key}"}
    assert (await client.get(R, headers=member)).status_code == 200
    assert (await client.delete(f"{R}/{rule['id']}", headers=member)).status_code == 403
    assert (await client.delete(f"{R}/{rule['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"{R}/{rule['id']}", headers=auth)).status_code == 404
