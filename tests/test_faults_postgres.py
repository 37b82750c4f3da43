"""Stop PostgreSQL for 20 s under steady checking: the worker holds results in its buffer
and writes them on recovery, so no result of the window is missing."""

import os
import shutil
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from tests.pipeline_fixtures import (
    CountingTarget,
    add_monitors,
    due_slots,
    spawn,
    stop,
    stored_slots,
    wait_until,
    worker_health,
)
from vigil.accounts import create_account_with_key
from vigil.devcluster import Postgres, free_port
from vigil.migrate import migrate

OUTAGE_S = 20


@pytest.mark.timeout(120)
def test_postgres_down_for_20s_loses_no_result(settings):
    # Our own PostgreSQL: the session's server is shared by every other test.
    root = Path(tempfile.mkdtemp(prefix="vigil-fault-pg-"))
    os.chmod(root, 0o755)
    pg = Postgres(root / "data", free_port(), durable=False)
    pg.start()
    target = CountingTarget()
    health_port = free_port()
    procs = []
    try:
        settings = settings.model_copy(update={"database_url": pg.dsn})
        migrate(settings)
        with psycopg.connect(pg.dsn, autocommit=True) as db:
            account_id, _ = create_account_with_key(db, "acme", "admin")
            ids = add_monitors(db, account_id, 20, target.url, interval_s=10, timeout_ms=1000)
        env = {"VIGIL_WRITER_ACK_WAIT_SECONDS": "1", "VIGIL_WORKER_HEALTH_PORT": str(health_port)}
        started = int(time.time()) + 1
        procs = [spawn(settings, "scheduler", **env), spawn(settings, "worker", **env)]
        with psycopg.connect(pg.dsn, autocommit=True) as db:
            wait_until(lambda: stored_slots(db, started + 2, started + 4), within_s=15)
        down_from = int(time.time())
        pg.stop("fast")
        # While it is down the worker keeps checking and holds the results.
        held = wait_until(lambda: (h := worker_health(health_port)) and h[1]["database_down"]
                          and h[1]["buffered_rows"] >= 20 and h[1], within_s=OUTAGE_S)
        time.sleep(max(0.0, down_from + OUTAGE_S - time.time()))
        pg.start()
        up_again = int(time.time())
        window = (started + 2, up_again + 3)
        want = sorted(due_slots(ids, 10, *window))
        with psycopg.connect(pg.dsn, autocommit=True) as db:
            wait_until(lambda: len(stored_slots(db, *window)) >= len(want), within_s=30, every_s=0.5)
            got, missed = stored_slots(db, *window), stored_slots(db, *window, missed=True)
        after = worker_health(health_port)[1]
    finally:
        stop(*procs)
        target.close()
        pg.destroy()
        shutil.rmtree(root, ignore_errors=True)
    assert held["status"] == "ok" and held["dropped_rows"] == 0
    assert got == want and missed == []  # every slot of the window once, all real results
    assert [(m, t) for m, t in want if down_from + 1 <= t <= up_again - 1]  # the outage had slots
    assert after["buffered_rows"] == 0 and after["database_down"] is False and after["held_rows"] > 0
