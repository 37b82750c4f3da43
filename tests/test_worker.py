import os
import signal
import subprocess
import sys
import time

import pytest
import redis as sync_redis

from tests.pipeline_fixtures import CountingTarget, add_monitors, region_id, wait_until, worker_health
from tests.services import service_env
from vigil.constants import check_queue
from vigil.devcluster import free_port


def _enqueue(settings, job_id, slot, rid, monitors):
    """Enqueue a run_batch job the way the scheduler does (arq's own client)."""
    import asyncio

    from arq import create_pool
    from arq.connections import RedisSettings

    async def go():
        redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        try:
            await redis.enqueue_job("run_batch", slot, rid, monitors, _job_id=job_id,
                                    _queue_name=check_queue("local"))
        finally:
            await redis.aclose()

    asyncio.run(go())


def _worker(settings, **env):
    return subprocess.Popen([sys.executable, "-m", "vigil", "worker"], start_new_session=True,
                            env=service_env(settings, VIGIL_WORKER_MAX_JOBS="1", **env))


@pytest.mark.timeout(60)
def test_health_endpoint_reports_lag_and_in_flight_and_sigterm_lets_the_batch_finish(settings, db, account):
    target = CountingTarget(delay_s=2.5)
    ids = add_monitors(db, account[0], 5, target.url + "/slow", timeout_ms=5000)
    rid = region_id(db, "local")
    slot = int(time.time())
    monitors = [[m, "http", target.url + "/slow", 5000, {}, 1] for m in ids]
    _enqueue(settings, "chk:local:a", slot, rid, monitors)
    _enqueue(settings, "chk:local:b", slot, rid, monitors)  # waits: one job at a time
    port = free_port()
    proc = _worker(settings, VIGIL_WORKER_HEALTH_PORT=str(port))
    try:
        status, body = wait_until(lambda: (h := worker_health(port)) and h[1]["in_flight_checks"] == 5 and h,
                                  within_s=20)
        assert status == 200 and body["status"] == "ok" and body["region"] == "local"
        assert body["in_flight_jobs"] == 1 and body["queued_jobs"] >= 1 and body["queue_lag_s"] > 0
        assert body["buffered_rows"] == 0 and body["dropped_rows"] == 0 and body["buffer_limit"] == 200_000
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        target.close()
    rows = db.execute("SELECT monitor_id, up FROM check_results ORDER BY 1").fetchall()
    assert rows == [(m, True) for m in ids]  # the in-flight batch finished and was stored
    queue = [j.decode() for j in sync_redis.Redis.from_url(settings.redis_url).zrange(check_queue("local"), 0, -1)]
    assert queue == ["chk:local:b"]  # the other stays queued for the next worker


@pytest.mark.timeout(60)
def test_sigterm_puts_a_batch_that_cannot_finish_in_time_back_on_the_queue(settings, db, account):
    target = CountingTarget(delay_s=3)
    ids = add_monitors(db, account[0], 3, target.url + "/slow", timeout_ms=5000)
    rid = region_id(db, "local")
    monitors = [[m, "http", target.url + "/slow", 5000, {}, 1] for m in ids]
    _enqueue(settings, "chk:local:c", int(time.time()), rid, monitors)
    proc = _worker(settings, VIGIL_WORKER_SHUTDOWN_WAIT_SECONDS="0.5")
    try:
        wait_until(lambda: sum(target.counts.values()) == 3, within_s=20, every_s=0.05)
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        assert db.execute("SELECT count(*) FROM check_results").fetchone()[0] == 0
        r = sync_redis.Redis.from_url(settings.redis_url)
        assert [j.decode() for j in r.zrange(check_queue("local"), 0, -1)] == ["chk:local:c"]
        proc = _worker(settings)  # the next worker picks it up and finishes it
        wait_until(lambda: db.execute("SELECT count(*) FROM check_results").fetchone()[0] == 3, within_s=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        target.close()


async def test_health_report_is_503_when_redis_is_unreachable_or_the_writer_stopped(settings):
    import redis.asyncio as aioredis

    from ingest.health import WorkerStats, report
    from ingest.writer import ResultWriter

    dead = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    ctx = {"settings": settings, "redis": dead, "stats": WorkerStats(),
           "writer": ResultWriter(pool=None, max_buffer_rows=10)}  # never started
    try:
        status, body = await report(ctx)
    finally:
        await dead.aclose()
    assert status == 503 and body["status"] == "degraded"
    assert any(p.startswith("redis:") for p in body["problems"]) and "writer stopped" in body["problems"]
    assert body["buffer_limit"] == 10 and "queue_lag_s" not in body


@pytest.mark.timeout(60)
def test_a_stored_job_result_keeps_no_copy_of_the_batch(settings, db, account):
    import pickle

    from arq.constants import result_key_prefix

    target = CountingTarget()
    ids = add_monitors(db, account[0], 50, target.url + "/ok")
    monitors = [[m, "http", target.url + "/ok", 2000, {}, 1] for m in ids]
    _enqueue(settings, "chk:local:r", int(time.time()), region_id(db, "local"), monitors)
    proc = _worker(settings)
    r = sync_redis.Redis.from_url(settings.redis_url)
    try:
        stored = wait_until(lambda: r.get(result_key_prefix + "chk:local:r"), within_s=30)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        r.close()
    result = pickle.loads(stored)
    assert result["s"] and result["r"] == 50 and result["a"] == ()  # the id is still held; the batch is not
    assert len(stored) < 400
