import asyncio
import time

import pytest
from arq import create_pool
from arq.connections import RedisSettings

from ingest.scheduler import Scheduler
from ingest.slots import phase_for
from tests.pipeline_fixtures import add_monitors
from vigil.constants import check_queue
from vigil.db import open_pool


async def _scheduler(settings):
    pool = await open_pool(settings.database_url, max_size=2)
    redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    s = Scheduler(settings, pool, redis)
    await s.refresh()
    return s


async def _close(*schedulers):
    for s in schedulers:
        await s.redis.aclose()
        await s.pool.close()


async def _queued(redis, region="local"):
    return sorted(j.decode() for j in await redis.zrange(check_queue(region), 0, -1))


def _due_slots(ids, interval, lo, hi):
    return sorted({t for m in ids for t in range(lo, hi + 1) if (t - phase_for(m, interval)) % interval == 0})


async def test_two_schedulers_at_once_enqueue_each_batch_once(settings, db, account):
    ids = add_monitors(db, account[0], 30, "http://127.0.0.1:9/", interval_s=10)
    a, b = await _scheduler(settings), await _scheduler(settings)
    try:
        t0 = 1_800_000_000
        await a.tick(now=t0)
        for now in range(t0 + 1, t0 + 21):  # both tick every second, racing
            await asyncio.gather(a.tick(now=now), b.tick(now=now))
        queued = await _queued(a.redis)
    finally:
        await _close(a, b)
    lead = settings.scheduler_lead_seconds  # slots are enqueued this far ahead
    want = sorted(f"chk:local:{t}:0" for t in _due_slots(ids, 10, t0, t0 + 20 + lead))
    assert queued == want
    assert a.enqueued_jobs + b.enqueued_jobs == len(want)


async def test_restarted_scheduler_resumes_from_its_watermark_without_gaps_or_doubles(settings, db, account):
    ids = add_monitors(db, account[0], 40, "http://127.0.0.1:9/", interval_s=10)
    first = await _scheduler(settings)
    t0 = 1_800_000_000
    try:
        for now in range(t0, t0 + 5):
            await first.tick(now=now)
    finally:
        await _close(first)
    second = await _scheduler(settings)  # "restarted" 8 s later
    try:
        await second.tick(now=t0 + 12)
        queued = await _queued(second.redis)
    finally:
        await _close(second)
    lead = settings.scheduler_lead_seconds
    assert queued == sorted(f"chk:local:{t}:0" for t in _due_slots(ids, 10, t0, t0 + 12 + lead))


async def test_scheduler_enqueues_each_region_on_its_own_queue(settings, db, account):
    add_monitors(db, account[0], 5, "http://127.0.0.1:9/", interval_s=10, regions=("eu", "us"))
    add_monitors(db, account[0], 5, "http://127.0.0.1:9/", interval_s=10, regions=("eu",))
    s = await _scheduler(settings)
    try:
        for now in range(1_800_000_000, 1_800_000_010):
            await s.tick(now=now)
        eu_jobs = [await s.redis.zcard(check_queue("eu")), await s.redis.zcard(check_queue("us"))]
        # A job's payload carries its region id and only that region's monitors.
        from arq.jobs import Job
        job = Job((await _queued(s.redis, "us"))[0], s.redis, _queue_name=check_queue("us"))
        info = await job.info()
    finally:
        await _close(s)
    assert eu_jobs[0] >= eu_jobs[1] > 0
    us_id = db.execute("SELECT id FROM regions WHERE name = 'us'").fetchone()[0]
    assert info.args[1] == us_id
    assert all(m[0] <= 5 for m in info.args[2])  # monitors 6-10 are eu-only
    # Each monitor travels as MonitorSpec's fields, its interval last: the slot's time
    # budget for retries inside the slot.
    assert all(len(m) == 7 and m[6] == 10 for m in info.args[2])


async def test_monitors_are_read_again_only_when_they_changed(settings, db, account):
    add_monitors(db, account[0], 5, "http://127.0.0.1:9/", interval_s=10)
    s = await _scheduler(settings)
    try:
        assert await s.refresh_if_changed()  # the first look always reads them
        assert not await s.refresh_if_changed()
        (new_id,) = add_monitors(db, account[0], 1, "http://127.0.0.1:9/", interval_s=10)
        assert await s.refresh_if_changed()
        assert any(new_id in {p[0] for p in phase} for phase in s.tables["local"][1].by_interval[10].values())
        db.execute("UPDATE monitors SET enabled = false, updated_at = now() WHERE id = %s", (new_id,))
        assert await s.refresh_if_changed()
        assert not any(new_id in {p[0] for p in phase} for phase in s.tables["local"][1].by_interval[10].values())
        db.execute("DELETE FROM monitors WHERE id = (SELECT min(id) FROM monitors)")
        assert await s.refresh_if_changed()
        assert not await s.refresh_if_changed()
    finally:
        await _close(s)


async def test_a_full_refresh_rebuilds_the_tables_only_when_the_monitors_differ(settings, db, account, monkeypatch):
    import ingest.scheduler

    (first, *_) = add_monitors(db, account[0], 5, "http://127.0.0.1:9/", interval_s=10)
    s = await _scheduler(settings)
    try:
        assert await s.refresh_if_changed()
        monkeypatch.setattr(ingest.scheduler, "FULL_REFRESH_SECONDS", 0.0)  # every look is a full one
        tables = s.tables
        assert not await s.refresh_if_changed()
        assert s.tables is tables  # the same rows: the tables were kept, not rebuilt
        # An edit in SQL that leaves updated_at alone: the fingerprint misses it, the rows do not.
        db.execute("UPDATE monitors SET target = 'http://127.0.0.1:10/' WHERE id = %s", (first,))
        assert await s.refresh_if_changed()
        targets = {p[0]: p[2] for phase in s.tables["local"][1].by_interval[10].values() for p in phase}
        assert targets[first] == "http://127.0.0.1:10/"
        assert not await s.refresh_if_changed()
    finally:
        await _close(s)


async def test_a_finished_slot_is_refused_until_its_catch_up_ends_and_then_forgotten(settings, db, account):
    """A job's result is kept for the catch-up plus a margin, not longer: long enough that a
    second scheduler, or a restarted one, still trying the slot at the end of its catch-up is
    refused, and short enough that Redis holds only minutes of results."""
    from arq.constants import job_key_prefix, result_key_prefix

    from tests.pipeline_fixtures import CountingTarget
    from tests.services import running
    from vigil.constants import SCHEDULER_WATERMARK_KEY, slot_job_lifetime

    catchup = 20
    settings = settings.model_copy(update={"scheduler_max_catchup_seconds": catchup})
    lifetime = slot_job_lifetime(catchup)
    target = CountingTarget()
    add_monitors(db, account[0], 20, target.url + "/ok", interval_s=10)
    a = await _scheduler(settings)
    try:
        now = int(time.time())
        assert await a.tick(now=now)
        jobs = await _queued(a.redis)
        slots = sorted(int(j.split(":")[2]) for j in jobs)
        for jid, t in zip(jobs, slots, strict=True):  # not yet run: the job itself expires at t + lifetime
            expiry = time.time() + await a.redis.pttl(job_key_prefix + jid) / 1000
            assert t + lifetime - 2 <= expiry <= t + lifetime + 2
        with running(settings, ["worker"], VIGIL_SCHEDULER_MAX_CATCHUP_SECONDS=str(catchup)):
            for _ in range(100):
                if all([await a.redis.exists(result_key_prefix + j) for j in jobs]):
                    break
                await asyncio.sleep(0.2)
        for jid, t in zip(jobs, slots, strict=True):  # run: its result expires at t + lifetime at the earliest
            expiry = time.time() + await a.redis.pttl(result_key_prefix + jid) / 1000
            assert t + catchup < t + lifetime - 1 <= expiry <= time.time() + lifetime + 1
        # A scheduler that read the watermark from before these slots, ticking at the last
        # second its catch-up still reaches the first of them: refused, every one.
        await a.redis.set(SCHEDULER_WATERMARK_KEY + "local", slots[0] - 1)
        b = await _scheduler(settings)
        try:
            await b.tick(now=slots[0] + catchup)
            assert not set(jobs) & set(await _queued(b.redis))
        finally:
            await _close(b)
    finally:
        await _close(a)
        target.close()


def test_the_scheduler_finds_the_c_librarys_trim_on_glibc():
    """Without it a rebuild's freed memory stays with the process: make a failed lookup loud here."""
    import platform

    import ingest.scheduler

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    assert ingest.scheduler._MALLOC_TRIM is not None
    ingest.scheduler._return_freed_memory()
