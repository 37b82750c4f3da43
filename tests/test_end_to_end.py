import asyncio
import time

from tests.services import running


async def _wait_for_results(client, auth, monitor_id, want, within_s=20.0):
    deadline = time.monotonic() + within_s
    results = []
    while time.monotonic() < deadline:
        r = await client.get(f"/api/v1/monitors/{monitor_id}/results", headers=auth)
        assert r.status_code == 200, r.text
        results = r.json()
        if len(results) >= want:
            return results
        await asyncio.sleep(0.3)
    raise AssertionError(f"only {len(results)} results after {within_s}s")


async def test_monitor_created_through_the_api_is_checked_and_its_results_shown(
        client, auth, settings, http_target):
    up = (await client.post("/api/v1/monitors", headers=auth, json={
        "name": "ok", "target": f"{http_target}/ok", "interval_s": 10, "timeout_ms": 2000})).json()
    down = (await client.post("/api/v1/monitors", headers=auth, json={
        "name": "down", "target": f"{http_target}/down", "interval_s": 10, "timeout_ms": 2000})).json()
    with running(settings, ["scheduler"], ["worker"]):
        ok_results = await _wait_for_results(client, auth, up["id"], 1)
        down_results = await _wait_for_results(client, auth, down["id"], 1)
    first = ok_results[0]
    assert first["up"] is True and first["status_code"] == 200 and first["error_kind"] is None
    assert first["region"] == "local" and first["latency_ms"] > 0 and first["lateness_ms"] < 5000
    assert down_results[0]["up"] is False
    assert down_results[0]["error_kind"] == "http_status" and down_results[0]["status_code"] == 503
