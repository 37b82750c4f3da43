"""Scenario tests of the heartbeat and tls_expiry rules, maintenance windows, and a failing
rule kind not stopping the others."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.alerts_fixtures import (
    MINUTE,
    T0,
    incidents,
    make_channel,
    make_monitor,
    make_rule,
    minutes,
    notifications,
    tick,
    write_results,
)


@pytest.mark.timeout(60)
async def test_nothing_fires_inside_a_maintenance_window_and_fires_after_it(db, account, pool):
    acc = account[0]
    mid = make_monitor(db, acc, regions=("eu",))
    make_rule(db, acc, "down", {"failures": 2}, monitor_id=mid, channel_ids=[make_channel(db, acc)])
    db.execute("INSERT INTO maintenance_windows (account_id, monitor_id, starts_at, ends_at) VALUES (%s, %s, %s, %s)",
               (acc, mid, T0, T0 + 20 * MINUTE))
    write_results(db, mid, "eu", minutes(T0, 30), up=False)  # down all through and after
    for i in range(1, 21):
        await tick(pool, T0 + i * MINUTE, ("down",))
    assert incidents(db) == [] and notifications(db) == []
    await tick(pool, T0 + 21 * MINUTE, ("down",))
    assert [(i["state"], i["started_at"]) for i in incidents(db)] == [("firing", T0 + 21 * MINUTE)]
    assert [n["event"] for n in notifications(db)] == ["firing"]


@pytest.mark.timeout(60)
async def test_weekly_account_window_silences_every_monitor(db, account, pool):
    acc = account[0]
    mids = [make_monitor(db, acc, f"m{k}", regions=("eu",)) for k in range(3)]
    make_rule(db, acc, "down", {"failures": 1})
    db.execute("INSERT INTO maintenance_windows (account_id, weekdays, start_time, duration_s, time_zone)"
               " VALUES (%s, '{1}', '13:00', 3600, 'Europe/Berlin')", (acc,))  # Monday 12:00-13:00 UTC
    for mid in mids:
        write_results(db, mid, "eu", minutes(T0, 70), up=False)
    await tick(pool, T0 + 30 * MINUTE, ("down",))
    assert incidents(db) == []
    await tick(pool, T0 + 61 * MINUTE, ("down",))
    assert len(incidents(db)) == 3


@pytest.mark.timeout(60)
async def test_missed_heartbeat_fires_and_a_new_ping_resolves(db, account, pool):
    acc = account[0]
    mid = make_monitor(db, acc, "cron-job", regions=("eu",), kind="heartbeat", interval_s=300)
    make_rule(db, acc, "heartbeat", {"grace_s": 60}, monitor_id=mid, channel_ids=[make_channel(db, acc)])
    db.execute("INSERT INTO heartbeat_pings (monitor_id, last_ping_at) VALUES (%s, %s)", (mid, T0))
    await tick(pool, T0 + 6 * MINUTE, ("heartbeat",))
    assert incidents(db) == []
    await tick(pool, T0 + 7 * MINUTE, ("heartbeat",))  # 420 s > 300 + 60
    (inc,) = incidents(db)
    assert inc["state"] == "firing" and inc["reason"]["interval_s"] == 300
    db.execute("UPDATE heartbeat_pings SET last_ping_at = %s WHERE monitor_id = %s", (T0 + 8 * MINUTE, mid))
    await tick(pool, T0 + 9 * MINUTE, ("heartbeat",))
    assert incidents(db)[0]["state"] == "resolved"
    assert [n["event"] for n in notifications(db)] == ["firing", "resolved"]


@pytest.mark.timeout(60)
async def test_certificate_expiring_within_the_days_fires(db, account, pool):
    acc = account[0]
    soon, later = make_monitor(db, acc, "soon", regions=("eu", "us")), make_monitor(db, acc, "later", regions=("eu",))
    make_rule(db, acc, "tls_expiry", {"days": 14})
    rid = {name: rid for rid, name in db.execute("SELECT id, name FROM regions")}
    db.execute("INSERT INTO tls_certificates (monitor_id, region_id, not_after) VALUES (%s, %s, %s), (%s, %s, %s),"
               " (%s, %s, %s)", (soon, rid["eu"], T0 + timedelta(days=60), soon, rid["us"], T0 + timedelta(days=10),
                                 later, rid["eu"], T0 + timedelta(days=30)))
    await tick(pool, T0, ("tls_expiry",))
    (inc,) = incidents(db)
    assert inc["monitor_id"] == soon and inc["reason"]["days_left"] == 10


@pytest.mark.timeout(60)
async def test_a_failing_rule_kind_is_logged_and_does_not_stop_the_others(db, account, pool, caplog):
    acc = account[0]
    mid = make_monitor(db, acc, regions=("eu",))
    hb = make_monitor(db, acc, "hb", regions=("eu",), kind="heartbeat")
    make_rule(db, acc, "down", {"failures": 1}, monitor_id=mid)
    bad = make_rule(db, acc, "heartbeat", {"grace_s": "soon"}, monitor_id=hb)  # not an integer: the cast fails
    write_results(db, mid, "eu", minutes(T0, 5), up=False)
    outcomes = {o.kind: o for o in await tick(pool, T0 + MINUTE)}
    assert outcomes["heartbeat"].error and "invalid input syntax" in outcomes["heartbeat"].error
    assert "evaluating heartbeat rules" in caplog.text
    assert [(i["monitor_id"], i["state"]) for i in incidents(db)] == [(mid, "firing")]
    db.execute("UPDATE alert_rules SET params = '{\"grace_s\": 0}' WHERE id = %s", (bad,))
    outcomes = {o.kind: o for o in await tick(pool, T0 + 2 * MINUTE)}
    assert outcomes["heartbeat"].error is None
    assert {i["monitor_id"] for i in incidents(db)} == {mid, hb}
