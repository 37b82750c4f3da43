"""Heartbeat (push) monitors: tokens, pings without an API key, and the check that turns
a missed ping into a down result."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from ingest.checks.base import MonitorSpec
from ingest.checks.heartbeat import verdict
from ingest.context import make_check_context
from ingest.runner import run_check
from vigil.constants import ErrorKind
from vigil.db import open_pool

pytestmark = pytest.mark.timeout(60)
M = "/api/v1/monitors"


async def _heartbeat_monitor(client, auth, name="backup", grace_s=30) -> int:
    r = await client.post(M, headers=auth, json={
        "name": name, "kind": "heartbeat", "target": f"heartbeat://{name}", "interval_s": 60,
        "timeout_ms": 1000, "expectations": {"grace_s": grace_s}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _token(client, auth, monitor_id) -> str:
    r = await client.post(f"{M}/{monitor_id}/heartbeat-token", headers=auth)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["ping_url"] == f"/api/v1/heartbeats/{body['token']}"
    return body["token"]


async def test_cron_job_pings_without_an_api_key_and_the_count_grows(client, auth, db):
    monitor_id = await _heartbeat_monitor(client, auth)
    token = await _token(client, auth, monitor_id)
    assert token.startswith("hb_") and len(token) >= 35
    r1 = await client.get(f"/api/v1/heartbeats/{token}")
    r2 = await client.post(f"/api/v1/heartbeats/{token}")
    assert (r1.status_code, r2.status_code) == (200, 200)
    assert r2.json() == {"ok": True, "pings": 2}
    row = db.execute("SELECT pings, last_ping_at > now() - interval '1 minute' FROM heartbeat_pings "
                     "WHERE monitor_id = %s", (monitor_id,)).fetchone()
    assert row == (2, True)


async def test_token_is_stored_only_as_a_hash(client, auth, db):
    token = await _token(client, auth, await _heartbeat_monitor(client, auth))
    stored = db.execute("SELECT token_hash FROM heartbeat_tokens").fetchone()[0]
    assert token.encode() not in bytes(stored) and len(bytes(stored)) == 32
    listed = (await client.get(M, headers=auth)).text
    assert token not in listed


async def test_unknown_or_rotated_token_is_404(client, auth):
    monitor_id = await _heartbeat_monitor(client, auth)
    old = await _token(client, auth, monitor_id)
    new = await _token(client, auth, monitor_id)
    assert (await client.post(f"/api/v1/heartbeats/{old}")).status_code == 404
    assert (await client.post("/api/v1/heartbeats/hb_guessed")).status_code == 404
    assert (await client.post("/api/v1/heartbeats/not-a-token")).status_code == 404
    assert (await client.post(f"/api/v1/heartbeats/{new}")).status_code == 200


async def test_only_heartbeat_monitors_get_tokens(client, auth):
    r = await client.post(M, headers=auth, json={"name": "web", "target": "https://example.com/"})
    r = await client.post(f"{M}/{r.json()['id']}/heartbeat-token", headers=auth)
    assert r.status_code == 409 and "heartbeat" in r.json()["detail"]
    assert (await client.post(f"{M}/999999/heartbeat-token", headers=auth)).status_code == 404


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("created_ago", "ping_ago", "grace", "up"), [
    (3600, 10, 30, True),
    (3600, 90, 30, True),     # interval 60 + grace 30: exactly on the edge is still up
    (3600, 91, 30, False),
    (3600, 61, 0, False),
    (60, None, 30, True),     # never pinged, still within the first interval + grace
    (3600, None, 30, False),  # never pinged for an hour
])
def test_verdict_from_last_ping(created_ago, ping_ago, grace, up):
    state = {"interval_s": 60, "now": NOW, "created_at": NOW - timedelta(seconds=created_ago),
             "last_ping_at": None if ping_ago is None else NOW - timedelta(seconds=ping_ago)}
    result = verdict(state, grace)
    assert result.up is up
    assert result.error_kind == (ErrorKind.none if up else ErrorKind.heartbeat_missed)


async def test_heartbeat_check_reads_pings_and_reports_missed_ones(client, auth, db, settings):
    fresh = await _heartbeat_monitor(client, auth, "fresh")
    late = await _heartbeat_monitor(client, auth, "late")
    never = await _heartbeat_monitor(client, auth, "never")
    await client.get(f"/api/v1/heartbeats/{await _token(client, auth, fresh)}")
    await client.get(f"/api/v1/heartbeats/{await _token(client, auth, late)}")
    db.execute("UPDATE heartbeat_pings SET last_ping_at = now() - interval '5 minutes' WHERE monitor_id = %s", (late,))
    db.execute("UPDATE monitors SET created_at = now() - interval '1 hour' WHERE id = %s", (never,))
    pool = await open_pool(settings.database_url, max_size=2)
    ctx = make_check_context(True, pool=pool)
    try:
        specs = [MonitorSpec(id=i, kind="heartbeat", target="heartbeat://x", timeout_ms=1000,
                             expectations={"grace_s": 30}, attempts=3) for i in (fresh, late, never)]
        results = await asyncio.gather(*(run_check(s, ctx) for s in specs))  # one batched lookup
    finally:
        await ctx.http.close()
        await pool.close()
    assert [r.up for r in results] == [True, False, False]
    assert results[1].error_kind == ErrorKind.heartbeat_missed and "last ping" in results[1].error
    assert results[2].error_kind == ErrorKind.heartbeat_missed and "no ping" in results[2].error
    assert all(r.attempts == 1 for r in results)  # a missed heartbeat is not retried


async def test_vigil_check_reads_a_heartbeat_from_the_database(client, auth, db, settings):
    from tests.test_checks_cli import vigil_check

    monitor_id = await _heartbeat_monitor(client, auth, "cli")
    await client.get(f"/api/v1/heartbeats/{await _token(client, auth, monitor_id)}")
    code, result, _ = await vigil_check(f"heartbeat://{monitor_id}", VIGIL_DATABASE_URL=settings.database_url)
    assert code == 0 and result["up"] is True and result["detail"]["age_s"] < 60
    db.execute("UPDATE heartbeat_pings SET last_ping_at = now() - interval '1 hour'")
    code, result, _ = await vigil_check(f"heartbeat://{monitor_id}", VIGIL_DATABASE_URL=settings.database_url)
    assert code == 1 and result["error_kind"] == "heartbeat_missed"
