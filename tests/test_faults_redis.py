"""Restart Redis under a running scheduler and worker: scheduling resumes within seconds,
and the slots lost with the queue (and those of a region without workers) are stored as
missed, never silently absent."""

import time

import pytest

from tests.pipeline_fixtures import (
    CountingTarget,
    add_monitors,
    due_slots,
    spawn,
    stop,
    stored_slots,
    wait_until,
)
from vigil.devcluster import Redis, free_port

ENV = {"VIGIL_MISSED_GRACE_SECONDS": "4", "VIGIL_MISSED_SWEEP_SECONDS": "1"}


@pytest.mark.timeout(90)
def test_redis_restart_resumes_scheduling_and_lost_slots_appear_as_missed(settings, db, account):
    redis = Redis(free_port())  # our own: the session's Redis must not be restarted under others
    redis.start()
    settings = settings.model_copy(update={"redis_url": redis.url})
    target = CountingTarget()
    local = add_monitors(db, account[0], 20, target.url, interval_s=10, timeout_ms=1000, created_ago_s=60)
    orphan = add_monitors(db, account[0], 3, target.url, interval_s=10, timeout_ms=1000,
                          regions=("orphan",), created_ago_s=60)
    started = int(time.time()) + 1
    procs = [spawn(settings, "scheduler", **ENV), spawn(settings, "worker", **ENV)]
    try:
        wait_until(lambda: stored_slots(db, started + 2, started + 4, missed=False), within_s=15)
        time.sleep(2)
        stopping = int(time.time())
        redis.stop()
        down_from = int(time.time())
        time.sleep(4)
        redis.start()
        up_again = int(time.time())
        # Scheduling resumes within seconds: a real result for a slot after the restart.
        wait_until(lambda: stored_slots(db, up_again + 1, up_again + 30, missed=False), within_s=8)
        window = (started + 2, up_again + 4)
        want = sorted(due_slots(local + orphan, 10, *window))
        wait_until(lambda: len(stored_slots(db, *window)) >= len(want), within_s=20, every_s=0.5)
        time.sleep(2)  # a late real result would replace a missed marker by now
    finally:
        stop(*procs)
        target.close()
        redis.stop()
    assert stored_slots(db, *window) == want  # every slot exactly once
    missed = set(stored_slots(db, *window, missed=True))
    assert [(m, t) for m, t in want if m in local and down_from + 1 <= t <= up_again - 1]  # some were lost
    for m, t in want:
        if m in orphan or down_from + 1 <= t <= up_again - 1:
            assert (m, t) in missed, (m, t, down_from, up_again)  # no worker / lost with Redis
        elif t <= stopping - 2 or t >= up_again + 2:
            assert (m, t) not in missed, (m, t, down_from, up_again)  # checked normally
    assert db.execute("SELECT bool_or(up) FROM check_results WHERE error_kind = 13").fetchone()[0] is False
