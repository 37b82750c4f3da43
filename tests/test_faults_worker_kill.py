"""kill -9 a worker in the middle of a batch, start another: every slot has exactly one row."""

import signal
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

PIPELINE_ENV = {"VIGIL_WORKER_JOB_TIMEOUT_SECONDS": "2", "VIGIL_MISSED_GRACE_SECONDS": "120"}


@pytest.mark.timeout(90)
def test_worker_killed_mid_batch_then_restarted_leaves_exactly_one_row_per_slot(settings, db, account):
    target = CountingTarget(delay_s=1.0)  # every check takes 1 s, so batches are always running
    ids = add_monitors(db, account[0], 30, target.url + "/ok", interval_s=10, timeout_ms=1500)
    started = int(time.time()) + 1  # the scheduler's first slot (it starts from "now")
    scheduler = spawn(settings, "scheduler", **PIPELINE_ENV)
    worker = spawn(settings, "worker", **PIPELINE_ENV)
    try:
        wait_until(lambda: db.execute("SELECT count(*) FROM check_results").fetchone()[0] >= 5, within_s=20)
        seen = sum(target.counts.values())
        wait_until(lambda: sum(target.counts.values()) > seen, within_s=5, every_s=0.02)  # checks running
        killed_at = int(time.time())
        stop(worker, sig=signal.SIGKILL)
        worker = spawn(settings, "worker", **PIPELINE_ENV)
        time.sleep(12)
        stop(scheduler)
        window = (max(killed_at - 8, started + 2), killed_at + 8)
        want = sorted(due_slots(ids, 10, *window))
        # The killed job runs again once its in-progress mark expires (job timeout + 11 s).
        wait_until(lambda: len(stored_slots(db, *window)) >= len(want), within_s=40, every_s=0.5)
        time.sleep(1)  # a duplicate, if there were one, would land now
    finally:
        stop(scheduler, worker)
        target.close()
    assert stored_slots(db, *window) == want  # each slot once, none missing
    assert stored_slots(db, *window, missed=True) == []  # and all of them real results
    # The kill interrupted checks: more requests reached the target than rows were stored.
    assert sum(target.counts.values()) > db.execute("SELECT count(*) FROM check_results").fetchone()[0]
