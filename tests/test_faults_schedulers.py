"""Two schedulers running at once: no slot is checked twice."""

import time

import pytest

from tests.pipeline_fixtures import CountingTarget, add_monitors, spawn, stop, wait_until


@pytest.mark.timeout(60)
def test_two_schedulers_at_once_check_no_slot_twice(settings, db, account):
    target = CountingTarget()
    ids = add_monitors(db, account[0], 40, target.url, interval_s=10, timeout_ms=2000)
    db.execute("UPDATE monitors SET target = target || '/m/' || id")
    procs = [spawn(settings, "scheduler"), spawn(settings, "scheduler"), spawn(settings, "worker")]
    try:
        time.sleep(14)
        stop(procs[0], procs[1])
        wait_until(lambda: sum(target.counts.values())
                   == db.execute("SELECT count(*) FROM check_results").fetchone()[0], within_s=10)
        time.sleep(0.5)
    finally:
        stop(*procs)
        target.close()
    per_monitor = dict(db.execute("SELECT monitor_id, count(*) FROM check_results GROUP BY 1").fetchall())
    assert set(per_monitor) == set(ids)  # every monitor was checked (each 1-2 times in 14 s)
    # Requests the target saw per monitor equal that monitor's stored slots: none checked twice.
    assert {int(path.rsplit("/", 1)[1]): n for path, n in target.counts.items()} == per_monitor
