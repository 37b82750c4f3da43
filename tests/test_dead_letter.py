import json
import subprocess
import sys

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Retry

from ingest import deadletters
from ingest.worker import run_batch, shutdown, startup
from tests.pipeline_fixtures import add_monitors, region_id
from tests.services import service_env
from vigil.accounts import create_account_with_key
from vigil.constants import check_queue


async def _ctx(settings, **overrides):
    s = settings.model_copy(update={"worker_job_tries": 3, "writer_buffer_rows": 5,
                                    "worker_retry_backoff_seconds": 1.5, **overrides})
    ctx = {"settings": s, "redis": await create_pool(RedisSettings.from_dsn(s.redis_url))}
    await startup(ctx)
    return ctx


async def _close(ctx):
    await shutdown(ctx)
    await ctx["redis"].aclose()


async def test_batch_refused_by_a_full_buffer_is_retried_with_backoff_then_dead_lettered(
        settings, http_target):
    ctx = await _ctx(settings)
    monitors = [(i, "http", f"{http_target}/ok", 2000, {}, 1) for i in range(1, 11)]  # 10 rows > bound 5
    try:
        delays = []
        for job_try in (1, 2):
            with pytest.raises(Retry) as retry:
                await run_batch({**ctx, "job_try": job_try, "job_id": "chk:local:1800000000:0"},
                                1_800_000_000, 1, monitors)
            delays.append(retry.value.defer_score)
        assert await run_batch({**ctx, "job_try": 3, "job_id": "chk:local:1800000000:0"},
                               1_800_000_000, 1, monitors) == 0
        letters = await deadletters.listing(ctx["redis"])
        dropped = ctx["writer"].dropped_rows
    finally:
        await _close(ctx)
    assert delays == [1500, 3000]  # exponential backoff, in ms as arq keeps it
    assert dropped == 30  # each refusal is counted
    assert len(letters) == 1
    letter = letters[0]
    assert letter["job_id"] == "chk:local:1800000000:0" and letter["tries"] == 3
    assert letter["slot"] == 1_800_000_000 and [m[0] for m in letter["monitors"]] == list(range(1, 11))
    assert "BufferFull" in letter["error"]


async def test_job_whose_worker_died_on_every_try_is_dead_lettered_without_running(settings, db):
    ctx = await _ctx(settings)
    try:
        monitors = [(7, "http", "http://127.0.0.1:9/never", 2000, {}, 1)]
        assert await run_batch({**ctx, "job_try": 4, "job_id": "chk:local:5:0"}, 5, 1, monitors) == 0
        letters = await deadletters.listing(ctx["redis"])
    finally:
        await _close(ctx)
    assert [(x["job_id"], x["tries"]) for x in letters] == [("chk:local:5:0", 3)]
    assert db.execute("SELECT count(*) FROM check_results").fetchone()[0] == 0  # nothing was checked


def _vigil(settings, *args):
    return subprocess.run([sys.executable, "-m", "vigil", *args], env=service_env(settings),
                          capture_output=True, text=True, timeout=60)


async def test_dead_letters_are_listed_by_cli_and_api_and_requeued(settings, db, account, client, auth):
    (mine,) = add_monitors(db, account[0], 1, "http://127.0.0.1:9/")
    other_account, other_key = create_account_with_key(db, "other", "admin")
    (theirs,) = add_monitors(db, other_account, 1, "http://127.0.0.1:9/")
    rid = region_id(db, "local")
    redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    try:
        spec = lambda m: [m, "http", "http://127.0.0.1:9/", 2000, {}, 1]  # noqa: E731
        await deadletters.push(redis, deadletters.entry("chk:local:100:0", "local", rid, 100,
                                                        [spec(mine), spec(theirs)], 4, "BufferFull"), 10)
        await deadletters.push(redis, deadletters.entry("chk:local:110:0", "local", rid, 110,
                                                        [spec(theirs)], 4, "BufferFull"), 10)

        listed = _vigil(settings, "dead-letters")
        assert listed.returncode == 0, listed.stderr
        lines = [json.loads(x) for x in listed.stdout.splitlines()]
        assert [x["job_id"] for x in lines] == ["chk:local:110:0", "chk:local:100:0"]
        assert lines[1]["monitor_ids"] == [mine, theirs] and lines[1]["slot"].startswith("1970-01-01T00:01:40")

        r = await client.get("/api/v1/dead-letters", headers=auth)
        assert r.status_code == 200, r.text
        assert [(x["job_id"], x["monitor_ids"]) for x in r.json()] == [("chk:local:100:0", [mine])]
        member_key = create_account_with_key(db, "acme", "member")[1]
        r = await client.get("/api/v1/dead-letters", headers={"Authorization": f"Bearer {member_key}"})
        assert r.status_code == 403
        r = await client.get("/api/v1/dead-letters?limit=0", headers=auth)
        assert r.status_code == 400 and "limit" in r.text

        requeued = _vigil(settings, "dead-letters", "--requeue")
        assert requeued.returncode == 0 and "requeued 2" in requeued.stdout
        assert await deadletters.count(redis) == 0
        jobs = sorted(j.decode() for j in await redis.zrange(check_queue("local"), 0, -1))
    finally:
        await redis.aclose()
    assert [j.rsplit(":", 1)[0] for j in jobs] == ["chk:local:100:0:requeued", "chk:local:110:0:requeued"]
    bad = _vigil(settings, "dead-letters", "--limit", "0")
    assert bad.returncode == 2 and "--limit" in bad.stderr


def test_dead_letters_cli_says_when_redis_is_unreachable(settings):
    from vigil.devcluster import free_port

    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    res = _vigil(down, "dead-letters")
    assert res.returncode == 1 and "cannot reach Redis" in res.stderr and "Traceback" not in res.stderr
