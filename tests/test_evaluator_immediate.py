"""Down rules fire seconds after the deciding result is stored (evaluator/immediate.py): the
writer announces down results, the immediate pass evaluates just those monitors, the
notifier is woken by the outbox row. Real services against the test database: in-process
(writer, immediate pass, tick) and as processes (scheduler, worker, two evaluators,
notifier) checking a loopback target."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from aiohttp import web

from evaluator.immediate import ImmediateDownPass
from ingest.wake import down_monitors
from ingest.writer import ResultWriter
from tests.alerts_fixtures import (
    incidents,
    make_monitor,
    make_rule,
    notifications,
    tick,
    write_results,
)
from tests.alerts_fixtures import (
    make_channel as make_outbox_channel,
)
from tests.notify_fixtures import *  # noqa: F403 (fixtures)
from tests.notify_fixtures import SECRET
from tests.services import running
from vigil.constants import DOWN_RESULTS_CHANNEL, OUTBOX_CHANNEL, ErrorKind
from vigil.listen import MAX_PAYLOAD_BYTES, id_payloads, parse_ids
from vigil.results import ResultRow

REGIONS = ("eu", "us", "ap")


def result(monitor_id: int, region_id: int, slot: datetime, up: bool,
           error_kind: ErrorKind = ErrorKind.http_status) -> ResultRow:
    return ResultRow(time=slot, monitor_id=monitor_id, latency_us=50_000, connect_us=1000, ttfb_us=40_000,
                     lateness_ms=3, region_id=region_id, error_kind=0 if up else int(error_kind),
                     status_code=200 if up else 503, attempts=1, up=up)


def region_id(db: psycopg.Connection, name: str) -> int:
    return db.execute("SELECT id FROM regions WHERE name = %s", (name,)).fetchone()[0]


async def wait_until(predicate, within_s: float, step: float = 0.02) -> float:
    """Seconds until predicate() held; fails after within_s."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > within_s:
            raise AssertionError(f"not within {within_s} s")
        await asyncio.sleep(step)
    return time.monotonic() - started


@contextlib.asynccontextmanager
async def immediate_passes(pool, settings, count: int = 1) -> AsyncIterator[list[ImmediateDownPass]]:
    """`count` immediate passes running as tasks (as `vigil evaluator` runs them), listening
    before the block starts."""
    passes = [ImmediateDownPass(pool, settings.database_url) for _ in range(count)]
    tasks = [asyncio.create_task(p.run()) for p in passes]
    await wait_until(lambda: all(p.passes for p in passes), 10)  # the pass after connecting
    try:
        yield passes
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def writer(pool) -> AsyncIterator[ResultWriter]:
    w = ResultWriter(pool, flush_seconds=0.02)
    w.start()
    try:
        yield w
    finally:
        await w.close()


def up_history(db, monitor_id: int, now: datetime, regions=REGIONS, minutes: int = 10) -> None:
    for region in regions:
        write_results(db, monitor_id, region, [now - timedelta(minutes=k) for k in range(minutes, 0, -1)], up=True)


def watched_monitor(db, account_id: int) -> tuple[int, datetime]:
    """A one-region monitor up for the last ten minutes, with a down rule firing on the first
    failed slot; returns it and the current minute."""
    mid = make_monitor(db, account_id, regions=("eu",))
    make_rule(db, account_id, "down", {"failures": 1}, monitor_id=mid,
              channel_ids=[make_outbox_channel(db, account_id)])
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    up_history(db, mid, now, regions=("eu",))
    return mid, now


@pytest.mark.parametrize(("ids", "payloads"), [
    ([], []),
    ([3, 1, 2, 3], ["1,2,3"]),
    ([10**6 + i for i in range(2000)], None),  # too long for one NOTIFY: split
])
def test_monitor_ids_travel_in_payloads_postgresql_accepts(ids, payloads):
    got = id_payloads(ids)
    if payloads is not None:
        assert got == payloads
    else:
        assert len(got) > 1
    assert all(len(p.encode()) < MAX_PAYLOAD_BYTES for p in got)
    assert set().union(*map(parse_ids, got)) == set(ids)


def test_only_down_results_wake_the_evaluator():
    now = datetime.now(UTC)
    rows = [result(1, 1, now, up=True), result(2, 1, now, up=False),
            result(3, 1, now, up=False, error_kind=ErrorKind.missed), result(4, 1, now, up=False, error_kind=ErrorKind.dns)]
    assert down_monitors(rows) == {2, 4}


@pytest.mark.timeout(60)
async def test_writer_announces_down_monitors_when_their_rows_commit(db, account, pool, settings):
    mids = [make_monitor(db, account[0], f"m{i}", regions=("eu",)) for i in range(3)]
    eu = region_id(db, "eu")
    slot = datetime.now(UTC).replace(microsecond=0)
    async with await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True) as listener:
        await listener.execute(f"LISTEN {DOWN_RESULTS_CHANNEL}")
        async with writer(pool) as w:
            await w.write([result(mids[0], eu, slot, up=True), result(mids[1], eu, slot, up=False),
                           result(mids[2], eu, slot, up=False)])
            # a retried job's rows go through the staging path: announced again, harmless
            await w.write([result(mids[1], eu, slot, up=False)])
        got = [n.payload async for n in listener.notifies(timeout=2)]
    assert [parse_ids(p) for p in got] == [{mids[1], mids[2]}, {mids[1]}]
    assert db.execute("SELECT count(*) FROM check_results").fetchone()[0] == 3


@pytest.mark.timeout(60)
async def test_deciding_region_of_a_quorum_fires_within_a_second_and_a_window_rule_waits_for_the_tick(
        db, account, pool, settings):
    acc = account[0]
    mid = make_monitor(db, acc, regions=REGIONS, quorum=2)
    channel = make_outbox_channel(db, acc)
    down_rule = make_rule(db, acc, "down", {"failures": 1}, monitor_id=mid, channel_ids=[channel])
    uptime_rule = make_rule(db, acc, "uptime", {"window_s": 600, "target_pct": 99.0, "min_slots": 1},
                            monitor_id=mid, channel_ids=[channel])
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    up_history(db, mid, now)
    slot = now
    async with immediate_passes(pool, settings) as (immediate,), writer(pool) as w:
        seen = immediate.passes
        await w.write([result(mid, region_id(db, "eu"), slot, up=False)])
        await wait_until(lambda: immediate.passes > seen, 5)
        assert incidents(db) == []  # one region of the 2-of-3 quorum: not down yet
        await w.write([result(mid, region_id(db, "us"), slot, up=False)])
        stored = time.monotonic()
        await wait_until(lambda: incidents(db), 5)
        fired_after = time.monotonic() - stored
        (inc,) = incidents(db)
        assert (inc["rule_id"], inc["state"], inc["reason"]["failed_slots"]) == (down_rule, "firing", 1)
        assert fired_after < 3
        assert [(n["event"], n["channel_id"]) for n in notifications(db)] == [("firing", channel)]
        # the uptime rule (a window kind) is untouched by the immediate pass: the tick fires it
        outcomes = await tick(pool, slot + timedelta(minutes=1), ("uptime",))
    assert outcomes[0].transitions == {"firing": 1}
    assert sorted(i["rule_id"] for i in incidents(db)) == sorted([down_rule, uptime_rule])


@pytest.mark.timeout(90)
async def test_two_immediate_passes_and_the_tick_together_give_one_incident_and_notification_each(
        db, account, pool, settings):
    acc = account[0]
    channels = [make_outbox_channel(db, acc, "ops"), make_outbox_channel(db, acc, "pager", "slack")]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    mids = []
    for i in range(20):
        mid = make_monitor(db, acc, f"m{i}", regions=("eu", "us"), quorum=1)
        make_rule(db, acc, "down", {"failures": 2}, monitor_id=mid, channel_ids=channels, recovery_slots=1)
        up_history(db, mid, now, regions=("eu", "us"))
        mids.append(mid)
    eu, us = region_id(db, "eu"), region_id(db, "us")
    async with immediate_passes(pool, settings, count=2), writer(pool) as w:
        await w.write([result(m, r, now - timedelta(seconds=30), up=False) for m in mids for r in (eu, us)])
        await w.write([result(m, r, now, up=False) for m in mids for r in (eu, us)])
        await tick(pool, now + timedelta(seconds=1), ("down",))  # a tick racing the passes
        await wait_until(lambda: len(notifications(db)) >= 2 * len(mids), 10)
        await asyncio.sleep(1.0)  # room for a duplicate to show up, if one could
    rows = incidents(db)
    assert sorted(i["monitor_id"] for i in rows) == mids
    assert {i["state"] for i in rows} == {"firing"}
    sent = notifications(db)
    assert len(sent) == 2 * len(mids)
    assert sorted((n["incident_id"], n["channel_id"]) for n in sent) == sorted(
        (i["id"], c) for i in rows for c in channels)


@pytest.mark.timeout(60)
async def test_a_down_result_inside_a_maintenance_window_fires_nothing(db, account, pool, settings):
    mid, now = watched_monitor(db, account[0])
    db.execute("INSERT INTO maintenance_windows (account_id, monitor_id, starts_at, ends_at) VALUES (%s, %s, %s, %s)",
               (account[0], mid, now - timedelta(minutes=5), now + timedelta(minutes=30)))
    async with immediate_passes(pool, settings) as (immediate,), writer(pool) as w:
        seen = immediate.passes
        await w.write([result(mid, region_id(db, "eu"), now, up=False)])
        await wait_until(lambda: immediate.passes > seen, 5)
    assert immediate.last.evaluated == 0
    assert incidents(db) == [] and notifications(db) == []


@pytest.mark.timeout(60)
async def test_a_tick_wakes_the_notifier_only_when_it_writes_outbox_rows(db, account, pool, settings):
    mid, now = watched_monitor(db, account[0])
    async with await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True) as listener:
        await listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
        await tick(pool, now, ("down",))  # all up: nothing to send
        assert [n async for n in listener.notifies(timeout=0.5)] == []
        write_results(db, mid, "eu", [now], up=False)
        await tick(pool, now + timedelta(minutes=1), ("down",))
        assert [n.channel async for n in listener.notifies(timeout=2, stop_after=1)] == [OUTBOX_CHANNEL]
    assert [n["event"] for n in notifications(db)] == ["firing"]


@pytest.mark.timeout(60)
async def test_recovery_resolves_within_the_recheck_and_a_reconnect_catches_up(db, account, pool, settings):
    mid, now = watched_monitor(db, account[0])
    eu = region_id(db, "eu")
    immediate = ImmediateDownPass(pool, settings.database_url, recheck_seconds=0.5)
    task = asyncio.create_task(immediate.run())
    try:
        await wait_until(lambda: immediate.passes, 10)
        # a down row stored with no announcement (as while the listener was away) ...
        write_results(db, mid, "eu", [now], up=False)
        await asyncio.sleep(1.0)
        assert incidents(db) == []
        # ... is found by the pass over every rule after the listening connection reconnects
        cut = db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()").fetchall()
        assert cut == [(True,)]
        await wait_until(lambda: incidents(db), 10)
        assert incidents(db)[0]["state"] == "firing"
        # up again: up rows announce nothing, the recheck of open incidents resolves it
        async with writer(pool) as w:
            await w.write([result(mid, eu, now + timedelta(seconds=10), up=True)])
        await wait_until(lambda: incidents(db)[0]["state"] == "resolved", 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [n["event"] for n in notifications(db)] == ["firing", "resolved"]


@pytest.fixture
async def switchable_target() -> AsyncIterator[tuple[str, dict]]:
    """A loopback HTTP target answering 200 until state["down"] is set, then 503."""
    state = {"down": False}

    async def health(_):
        return web.Response(status=503 if state["down"] else 200, text="state")

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/health", state
    finally:
        await runner.cleanup()


@pytest.mark.timeout(120)
async def test_target_going_down_pages_seconds_after_the_deciding_check_with_two_evaluators(
        nclient, auth, nsettings, receiver, switchable_target, db):
    url, target = switchable_target
    monitor = (await nclient.post("/api/v1/monitors", headers=auth, json={
        "name": "shop", "target": url, "interval_s": 10, "timeout_ms": 2000})).json()
    channel = (await nclient.post("/api/v1/channels", headers=auth, json={
        "name": "hook", "kind": "webhook", "config": {"url": receiver.url, "secret": SECRET}})).json()
    r = await nclient.post("/api/v1/rules", headers=auth, json={
        "name": "shop down", "monitor_id": monitor["id"], "condition": {"kind": "down", "failures": 1},
        "channel_ids": [channel["id"]]})
    assert r.status_code == 201, r.text
    # The minute tick runs 45 s from now: anything sooner is the immediate pass. The notifier
    # polls every 30 s: a delivery sooner is its wake-up.
    cron_second = str((datetime.now(UTC).second + 45) % 60)

    def events() -> list[str]:
        return [b["event"] for b in receiver.bodies()]

    with running(nsettings, ["scheduler"], ["worker"], ["evaluator"], ["evaluator"], ["notifier"],
                 VIGIL_SECRET_KEY=nsettings.secret_key, VIGIL_NOTIFY_POLL_SECONDS="30",
                 VIGIL_EVALUATOR_CRON_SECOND=cron_second):
        await wait_until(lambda: db.execute("SELECT count(*) FROM check_results WHERE up").fetchone()[0], 30, 0.1)
        target["down"] = True
        await wait_until(lambda: "firing" in events(), 25, 0.05)
        arrived = datetime.now(UTC)
        await asyncio.sleep(2)  # room for a second evaluator's duplicate, if one could happen
        assert events() == ["firing"]
        deciding_slot = datetime.fromisoformat(receiver.bodies()[0]["data"]["reason"]["last_slot"])
        # from the deciding slot's start (its check and write included) to the webhook
        assert (arrived - deciding_slot).total_seconds() < 5
    (inc,) = incidents(db)
    assert inc["state"] == "firing"
    assert len(notifications(db)) == 1
