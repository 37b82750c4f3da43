"""Scenario tests of the down rule with scripted histories: quorum, recovery hysteresis,
idempotent re-runs, parallel evaluators, reminders and the outbox."""

from __future__ import annotations

import asyncio

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

REGIONS = ("eu", "us", "ap")


def _history(db, monitor_id, start, count, up, regions=REGIONS):
    for region in regions:
        write_results(db, monitor_id, region, minutes(start, count), up=up)


@pytest.fixture
def outage(db, account):
    """A 2-of-3 quorum monitor: up for 30 minutes, down everywhere for 10, then up again;
    a down rule (3 failed slots, 2 good slots to recover) with two channels."""
    acc = account[0]
    mid = make_monitor(db, acc, regions=REGIONS, quorum=2)
    channels = [make_channel(db, acc, "ops"), make_channel(db, acc, "pager", "slack")]
    rule = make_rule(db, acc, "down", {"failures": 3}, monitor_id=mid, channel_ids=channels, recovery_slots=2)
    _history(db, mid, T0 - 30 * MINUTE, 30, True)
    _history(db, mid, T0, 10, False)
    _history(db, mid, T0 + 10 * MINUTE, 10, True)
    return mid, rule, channels


@pytest.mark.timeout(60)
async def test_ten_minute_outage_fires_once_per_channel_and_resolves_after_recovery(db, outage, pool):
    mid, rule, channels = outage
    fired_at = resolved_at = None
    for i in range(0, 16):
        at = T0 + i * MINUTE
        await tick(pool, at, ("down",))
        rows = incidents(db)
        if rows and fired_at is None:
            fired_at = at
        if rows and rows[0]["state"] == "resolved" and resolved_at is None:
            resolved_at = at
    # slots T0, T0+1, T0+2 are down: the tick at T0+3 (which reads slots before it) fires
    assert fired_at == T0 + 3 * MINUTE
    # recovery slots T0+10 and T0+11 are up: resolved at the tick T0+12
    assert resolved_at == T0 + 12 * MINUTE
    (inc,) = incidents(db)
    assert (inc["rule_id"], inc["monitor_id"], inc["state"]) == (rule, mid, "resolved")
    sent = notifications(db)
    assert sorted((n["event"], n["channel_id"]) for n in sent) == sorted(
        [("firing", c) for c in channels] + [("resolved", c) for c in channels])
    firing = next(n for n in sent if n["event"] == "firing")
    assert firing["status"] == "pending"
    assert firing["payload"]["incident_id"] == inc["id"]
    assert firing["payload"]["monitor"]["id"] == mid
    assert firing["payload"]["reason"]["failed_slots"] == 3
    assert firing["payload"]["severity"] == "critical"
    assert firing["payload"]["resolved_at"] is None


@pytest.mark.timeout(60)
async def test_one_region_blip_under_two_of_three_quorum_fires_nothing(db, account, pool):
    mid = make_monitor(db, account[0], regions=REGIONS, quorum=2)
    make_rule(db, account[0], "down", {"failures": 1}, monitor_id=mid, channel_ids=[make_channel(db, account[0])])
    _history(db, mid, T0 - 10 * MINUTE, 20, True, regions=("eu", "us"))
    write_results(db, mid, "ap", minutes(T0 - 10 * MINUTE, 20), up=False)  # ap sees it down throughout
    for i in range(0, 10):
        await tick(pool, T0 + i * MINUTE, ("down",))
    assert incidents(db) == [] and notifications(db) == []
    # and a second region agreeing does fire
    write_results(db, mid, "us", [T0 + 10 * MINUTE], up=False)
    write_results(db, mid, "ap", [T0 + 10 * MINUTE], up=False)
    await tick(pool, T0 + 11 * MINUTE, ("down",))
    assert [i["state"] for i in incidents(db)] == ["firing"]


@pytest.mark.timeout(60)
async def test_rerunning_a_minute_gives_no_second_incident_or_notification(db, outage, pool):
    for i in range(3, 8):
        await tick(pool, T0 + i * MINUTE, ("down",))
        await tick(pool, T0 + i * MINUTE, ("down",))
    for i in range(3, 14):  # re-run the whole episode, including resolution, then past it again
        await tick(pool, T0 + i * MINUTE, ("down",))
    for i in range(3, 14):
        await tick(pool, T0 + i * MINUTE, ("down",))
    assert len(incidents(db)) == 1
    assert sorted(n["event"] for n in notifications(db)) == ["firing", "firing", "resolved", "resolved"]


@pytest.mark.timeout(60)
async def test_two_evaluators_in_parallel_give_one_incident(db, outage, settings):
    from vigil.db import open_pool

    pools = [await open_pool(settings.database_url, max_size=2) for _ in range(2)]
    try:
        for i in range(0, 14):
            await asyncio.gather(*(tick(p, T0 + i * MINUTE, ("down",)) for p in pools))
    finally:
        for p in pools:
            await p.close()
    assert [i["state"] for i in incidents(db)] == ["resolved"]
    assert len(notifications(db)) == 4  # firing + resolved on two channels


@pytest.mark.timeout(60)
async def test_flapping_site_does_not_resolve_before_recovery_slots(db, account, pool):
    mid = make_monitor(db, account[0], regions=("eu",))
    make_rule(db, account[0], "down", {"failures": 2}, monitor_id=mid, recovery_slots=3)
    pattern = [False, False, True, False, True, True, False, True, True, True]
    for k, up in enumerate(pattern):
        write_results(db, mid, "eu", [T0 + k * MINUTE], up=up)
    states = []
    for i in range(2, len(pattern) + 1):
        await tick(pool, T0 + i * MINUTE, ("down",))
        states.append(incidents(db)[0]["state"])
    # fires after two failed slots, stays firing through the flaps, resolves after 3 good slots
    assert states == ["firing"] * 8 + ["resolved"]
    assert len(incidents(db)) == 1


@pytest.mark.timeout(60)
async def test_reminders_repeat_at_the_rule_interval_while_firing(db, account, pool):
    acc = account[0]
    mid = make_monitor(db, acc, regions=("eu",))
    ch = make_channel(db, acc)
    make_rule(db, acc, "down", {"failures": 1}, monitor_id=mid, channel_ids=[ch], renotify_s=300)
    write_results(db, mid, "eu", minutes(T0, 20), up=False)
    for i in range(1, 13):
        await tick(pool, T0 + i * MINUTE, ("down",))
        await tick(pool, T0 + i * MINUTE, ("down",))
    events = [(n["event"], n["payload"]["reminder"]) for n in notifications(db)]
    assert events == [("firing", 0), ("reminder", 1), ("reminder", 2)]  # at T0+1, +6, +11


@pytest.mark.timeout(60)
async def test_pending_incident_fires_after_pending_time_and_silently_ends_if_short(db, account, pool):
    acc = account[0]
    ch = make_channel(db, acc)
    short, long_ = make_monitor(db, acc, "short", regions=("eu",)), make_monitor(db, acc, "long", regions=("eu",))
    for mid in (short, long_):
        make_rule(db, acc, "down", {"failures": 1}, monitor_id=mid, channel_ids=[ch], pending_s=180)
    write_results(db, short, "eu", minutes(T0, 2), up=False)
    write_results(db, short, "eu", minutes(T0 + 2 * MINUTE, 10), up=True)
    write_results(db, long_, "eu", minutes(T0, 10), up=False)
    seen = {}
    for i in range(1, 8):
        await tick(pool, T0 + i * MINUTE, ("down",))
        for inc in incidents(db):
            seen.setdefault((inc["monitor_id"], inc["state"]), T0 + i * MINUTE)
    assert seen[(long_, "pending")] == T0 + MINUTE
    assert seen[(long_, "firing")] == T0 + 4 * MINUTE
    assert (short, "firing") not in seen and (short, "resolved") in seen
    assert [(n["event"], n["payload"]["monitor"]["id"]) for n in notifications(db)] == [("firing", long_)]


@pytest.mark.timeout(60)
async def test_tag_and_account_wide_rules_cover_their_monitors(db, account, pool):
    acc = account[0]
    web = make_monitor(db, acc, "web", regions=("eu",), tags=("web",))
    api = make_monitor(db, acc, "api", regions=("eu",), tags=("api",))
    make_rule(db, acc, "down", {"failures": 1}, tag="web", name="web")
    make_rule(db, acc, "down", {"failures": 1}, name="all")
    for mid in (web, api):
        write_results(db, mid, "eu", [T0], up=False)
    await tick(pool, T0 + MINUTE, ("down",))
    pairs = sorted((i["rule_id"], i["monitor_id"]) for i in incidents(db))
    assert pairs == [(1, web), (2, web), (2, api)]


@pytest.mark.timeout(60)
async def test_disabling_or_retargeting_a_rule_resolves_its_open_incident(db, account, pool):
    acc = account[0]
    a, b = make_monitor(db, acc, "a", regions=("eu",)), make_monitor(db, acc, "b", regions=("eu",))
    ch = make_channel(db, acc)
    rule = make_rule(db, acc, "down", {"failures": 1}, monitor_id=a, channel_ids=[ch])
    write_results(db, a, "eu", minutes(T0, 10), up=False)
    await tick(pool, T0 + MINUTE, ("down",))
    db.execute("UPDATE alert_rules SET enabled = false WHERE id = %s", (rule,))
    await tick(pool, T0 + 2 * MINUTE, ("down",))
    (inc,) = incidents(db)
    assert inc["state"] == "resolved" and inc["reason"]["closed"]
    assert [n["event"] for n in notifications(db)] == ["firing", "resolved"]

    db.execute("UPDATE alert_rules SET enabled = true WHERE id = %s", (rule,))
    await tick(pool, T0 + 3 * MINUTE, ("down",))  # still down: a new episode
    db.execute("UPDATE alert_rules SET monitor_id = %s WHERE id = %s", (b, rule))
    await tick(pool, T0 + 4 * MINUTE, ("down",))
    assert [(i["monitor_id"], i["state"]) for i in incidents(db)] == [(a, "resolved"), (a, "resolved")]
