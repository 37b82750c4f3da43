"""Reads from a streaming replica: a hot standby made with pg_basebackup from the test
primary answers the stats routes as the primary does and sees new results; past the lag
bound, or when it is stopped, reads go to the primary and nothing answers 5xx."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from tests.signin_fixtures import OPERATOR, OPERATOR_HASH
from tests.stats_fixtures import BASE, SLOTS, STEP, seed
from vigil.accounts import create_account_with_key
from vigil.devcluster import Postgres, free_port, standby_of
from vigil.replica import LagClock, ReadRouter, open_reads
from vigil.settings import Settings

MAX_LAG = 1.0
WINDOW = {"from": BASE.isoformat(), "to": (BASE + SLOTS * STEP).isoformat()}


@pytest.mark.parametrize(("seen", "now", "replayed", "expected"), [
    ([], 10.0, 5, (None, False)),                              # nothing known yet
    ([(10.0, 100)], 10.0, 100, (0.0, True)),                   # caught up with the latest
    ([(10.0, 100)], 10.0, 150, (0.0, True)),                   # replayed past it (later writes)
    ([(1.0, 100), (2.0, 100), (9.0, 100)], 9.0, 100, (0.0, True)),  # idle primary: no lag, however long
    ([(1.0, 100), (2.0, 200), (3.0, 300)], 3.0, 200, (1.0, True)),  # has what the primary had at 2.0
    ([(1.0, 100), (2.0, 200), (3.0, 300)], 3.0, 250, (1.0, True)),
    ([(1.0, 100), (2.0, 200), (3.0, 300)], 3.0, 99, (2.0, False)),  # behind all: at least 2 s
])
def test_lag_is_the_time_since_the_newest_primary_position_replayed(seen, now, replayed, expected):
    clock = LagClock()
    for when, lsn in seen:
        clock.primary_at(when, lsn)
    assert clock.lag(now, replayed) == expected


def test_the_clock_forgets_positions_older_than_its_history():
    clock = LagClock(history_seconds=10)
    for t in range(0, 30, 5):
        clock.primary_at(float(t), t)
    assert clock.lag(25.0, -1) == (10.0, False)  # 15, 20, 25 kept


@pytest.fixture(scope="module")
def standby(pg: Postgres, base_settings: Settings) -> Iterator[Postgres]:
    with standby_of(pg) as server:
        yield server


@pytest.fixture
def rsettings(settings: Settings, standby: Postgres) -> Settings:
    return settings.model_copy(update={"database_read_url": standby.dsn, "read_max_lag_seconds": MAX_LAG,
                                       "stats_cache_seconds": 0, "operator_token_hash": OPERATOR_HASH})


@pytest.fixture
async def rclient(rsettings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(rsettings)) as c:
        yield c


def _replayed(standby: Postgres, primary_dsn: str, timeout: float = 10.0) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    with psycopg.connect(primary_dsn, autocommit=True) as p:
        # Inserted, not only written: the test cluster commits without waiting for the write.
        target = p.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with psycopg.connect(standby.dsn, autocommit=True) as s:
        while time.monotonic() < deadline:
            if s.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the standby did not catch up")


async def _on_replica(client: AsyncTestClient) -> ReadRouter:
    """Probe until reads go to the replica: the second probe knows the lag; a restarted
    replica first reconnects to the primary and replays what it missed."""
    reads: ReadRouter = client.app.state.reads
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        await reads.probe()
        if reads.use_replica:
            return reads
        await asyncio.sleep(0.1)
    raise AssertionError(f"reads never went to the replica: {reads.status}")


def _served(pool) -> int:
    return pool.get_stats().get("requests_num", 0)


def _add_result(db: psycopg.Connection, monitor_id: int, when: datetime, up: bool) -> None:
    region = db.execute("SELECT id FROM regions WHERE name = 'eu'").fetchone()[0]
    db.execute("INSERT INTO check_results (time, monitor_id, region_id, up, error_kind, latency_us) "
               "VALUES (%s, %s, %s, %s, %s, %s)", (when, monitor_id, region, up, 0 if up else 4, 42_000))


@pytest.fixture
def seeded(db, account, pg, standby):
    other, _ = create_account_with_key(db, "other", "admin")
    out = seed(db, account[0], other)
    _replayed(standby, pg.dsn)
    return out


async def test_stats_from_the_replica_equal_those_from_the_primary(rclient, client, auth, seeded):
    reads = await _on_replica(rclient)
    assert reads.status.state == "ok" and reads.status.lag_seconds <= MAX_LAG
    routes = [f"/monitors/{seeded.monitors['shop']['id']}/stats", f"/monitors/{seeded.monitors['shop']['id']}/regions",
              f"/monitors/{seeded.monitors['blog']['id']}/series", f"/monitors/{seeded.monitors['blog']['id']}/downtimes",
              "/stats"]
    for route in routes:
        before = _served(reads.replica)
        params = {**WINDOW, "tag": "web"} if route == "/stats" else WINDOW
        from_replica = await rclient.get(f"/api/v1{route}", params=params, headers=auth)
        from_primary = await client.get(f"/api/v1{route}", params=params, headers=auth)
        assert from_replica.status_code == 200, from_replica.text
        assert _served(reads.replica) > before, route  # the replica's pool answered it
        assert from_replica.json() == from_primary.json(), route
    assert from_replica.json()["monitor_ids"]  # the group answer is not empty


async def test_a_new_result_is_visible_through_the_replica(rclient, auth, seeded, db):
    reads = await _on_replica(rclient)
    blog = seeded.monitors["blog"]["id"]
    now = datetime.now(UTC).replace(microsecond=0)
    _add_result(db, blog, now - timedelta(seconds=30), up=False)
    deadline = time.monotonic() + 10
    while True:
        before = _served(reads.replica)
        r = await rclient.get(f"/api/v1/monitors/{blog}/status", headers=auth)
        assert r.status_code == 200, r.text
        assert _served(reads.replica) > before and reads.use_replica
        if r.json()["recent"]:
            break
        assert time.monotonic() < deadline, "the new result never showed through the replica"
        await asyncio.sleep(0.05)
    assert r.json()["status"] == "down" and r.json()["last_slot"].startswith((now - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S"))


async def test_an_idle_primary_is_not_counted_as_lag(rclient, seeded, standby):
    reads = await _on_replica(rclient)
    # Wait until the last transaction the replica replayed is older than twice the bound:
    # the primary has committed nothing for that long (a background ANALYZE would restart it).
    deadline = time.monotonic() + 30
    with psycopg.connect(standby.dsn, autocommit=True) as s:
        while True:
            since_replay = s.execute("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
                                     ).fetchone()[0]
            if since_replay > MAX_LAG * 2:
                break
            assert time.monotonic() < deadline, "the primary never went idle"
            await asyncio.sleep(0.2)
    await reads.probe()
    await reads.probe()
    # The last replayed transaction's age grew past the bound while the primary idled; the lag did not.
    assert reads.status.state == "ok" and reads.status.lag_seconds < MAX_LAG and reads.use_replica


async def test_past_the_lag_bound_reads_go_to_the_primary_and_the_lag_is_reported(
        rclient, auth, seeded, db, standby, pg, caplog):
    reads = await _on_replica(rclient)
    blog = seeded.monitors["blog"]["id"]
    with psycopg.connect(standby.dsn, autocommit=True) as s:
        s.execute("SELECT pg_wal_replay_pause()")
        try:
            _add_result(db, blog, datetime.now(UTC) - timedelta(seconds=20), up=False)
            with caplog.at_level(logging.WARNING, logger="vigil.replica"):
                deadline = time.monotonic() + 10
                while reads.use_replica:
                    assert time.monotonic() < deadline, reads.status
                    await reads.probe()
                    await asyncio.sleep(0.2)
            assert reads.status.state == "lagging" and reads.status.lag_seconds > MAX_LAG
            assert "reads fall back to the primary: replica lagging" in caplog.text
            assert "exceeds VIGIL_READ_MAX_LAG_SECONDS=1" in caplog.text
            before = _served(reads.replica)
            r = await rclient.get(f"/api/v1/monitors/{blog}/status", headers=auth)
            assert r.status_code == 200 and r.json()["status"] == "down"  # the primary's answer
            assert _served(reads.replica) == before
            health = (await rclient.get("/api/v1/operator/health", headers=OPERATOR)).json()
            assert health["read_replica"]["state"] == "lagging"
            assert health["read_replica"]["reads_from"] == "primary"
            assert health["read_replica"]["lag_seconds"] > MAX_LAG
            assert health["read_replica"]["max_lag_seconds"] == MAX_LAG
            assert health["status"] == "ok"  # the reads are served all the same
        finally:
            s.execute("SELECT pg_wal_replay_resume()")
    _replayed(standby, pg.dsn)
    await _on_replica(rclient)
    assert reads.status.state == "ok"


async def test_a_stopped_replica_sends_reads_to_the_primary_without_5xx(rclient, auth, seeded, standby, caplog):
    reads = await _on_replica(rclient)
    shop = seeded.monitors["shop"]["id"]
    expected = (await rclient.get(f"/api/v1/monitors/{shop}/stats", params=WINDOW, headers=auth)).json()
    standby.stop("immediate")
    try:
        # No probe has run since the stop: the request finds out itself, then reads the primary.
        with caplog.at_level(logging.WARNING, logger="vigil.replica"):
            r = await rclient.get(f"/api/v1/monitors/{shop}/stats", params=WINDOW, headers=auth)
        assert r.status_code == 200, r.text
        assert r.json() == expected
        assert reads.status.state == "down" and not reads.use_replica
        assert "reads fall back to the primary: replica down" in caplog.text
        for route in ("stats", "series", "status", "regions", "downtimes"):
            r = await rclient.get(f"/api/v1/monitors/{shop}/{route}", params=WINDOW if route != "status" else {},
                                  headers=auth)
            assert r.status_code == 200, (route, r.text)
        await reads.probe()
        assert reads.status.state == "down"
        async with reads.connection() as conn:  # the connection form: the primary's
            assert (await (await conn.execute("SELECT pg_is_in_recovery() AS r")).fetchone())["r"] is False
        health = await rclient.get("/api/v1/operator/health", headers=OPERATOR)
        assert health.status_code == 200 and health.json()["read_replica"]["state"] == "down"
    finally:
        standby.start()
    await _on_replica(rclient)  # back on the replica once it is up again


async def test_a_replica_down_from_the_start_is_no_error(settings, auth, seeded):
    dead = settings.model_copy(update={"database_read_url": f"postgresql://vigil@127.0.0.1:{free_port()}/vigil",
                                       "stats_cache_seconds": 0})
    async with AsyncTestClient(app=create_app(dead)) as c:
        r = await c.get(f"/api/v1/monitors/{seeded.monitors['shop']['id']}/stats", params=WINDOW, headers=auth)
        assert r.status_code == 200, r.text
        await c.app.state.reads.probe()
        assert c.app.state.reads.status.state == "down"


async def test_a_read_url_that_is_no_standby_is_not_used(settings, pool):
    reads = await open_reads(pool, settings.database_url, MAX_LAG)
    try:
        assert (await reads.probe()).state == "not a standby"
        assert not reads.use_replica
    finally:
        await reads.replica.close()


async def test_without_a_read_url_everything_reads_the_primary(pool):
    reads = ReadRouter(pool)
    assert (await reads.probe()).state == "off"
    assert await reads.run(lambda p: _recovery(p)) is False


async def _recovery(pool) -> bool:
    async with pool.connection() as conn:
        return (await (await conn.execute("SELECT pg_is_in_recovery()")).fetchone())[0]
