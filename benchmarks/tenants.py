"""Other accounts' data beside the one a benchmark measures, so the database is shaped like a
user's: several tenants, many regions, maintenance windows and late rows that leave dirty
hours. A question of one tenant must not cost more because of what the others store (the
statistics PostgreSQL plans with, the chunks and indexes it walks, JIT cost thresholds).

    others(dsn, OTHERS_QUICK, days=30, seed=3)

writes each other account's monitors and history with `vigil seed`'s generator (each with
its own set of regions out of REGIONS), recurring and one-off maintenance windows, and,
once the history is rolled up, late rows that mark hours dirty (``late_rows``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from aggregator.history import Columns, copy_columns
from aggregator.seed import SeedPlan, seed

REGIONS = [f"{area}-{n}" for area in ("eu", "us", "ap", "sa", "af", "me") for n in range(1, 7)]  # 36


@dataclass(frozen=True)
class Tenants:
    accounts: int
    monitors: int          # per account
    regions: int           # per account, drawn from REGIONS
    interval_s: int


OTHERS_QUICK = Tenants(accounts=4, monitors=25, regions=3, interval_s=1800)
OTHERS_FULL = Tenants(accounts=6, monitors=50, regions=4, interval_s=900)


def others(dsn: str, shape: Tenants, days: float, seed_: int = 3) -> dict:
    """Seed the other accounts; returns {"rows", "monitors", "regions", "maintenance"}."""
    rng = np.random.default_rng(seed_)
    rows = monitors = 0
    used: set[str] = set()
    for a in range(shape.accounts):
        regions = sorted(rng.choice(REGIONS, shape.regions, replace=False).tolist())
        used.update(regions)
        got = seed(dsn, SeedPlan(monitors=shape.monitors, days=days, regions=regions, interval_s=shape.interval_s,
                                 account=f"tenant-{a}", quorum=min(2, len(regions)), seed=seed_ + a),
                   progress=False)
        rows += got["rows"]
        monitors += got["monitors"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        # Every tenant's monitors: a weekly window on each account and one-off windows on a
        # tenth of the monitors somewhere in the history.
        windows = conn.execute(
            "INSERT INTO maintenance_windows (account_id, monitor_id, name, weekdays, start_time, duration_s) "
            "SELECT a.id, NULL, 'weekly', '{2,4}', '02:00', 3600 FROM accounts a WHERE a.name LIKE 'tenant-%%'").rowcount
        windows += conn.execute(
            "INSERT INTO maintenance_windows (account_id, monitor_id, name, starts_at, ends_at) "
            "SELECT m.account_id, m.id, 'one-off', now() - (m.id %% %(days)s) * interval '1 day', "
            "now() - (m.id %% %(days)s) * interval '1 day' + interval '90 minutes' "
            "FROM monitors m JOIN accounts a ON a.id = m.account_id "
            "WHERE a.name LIKE 'tenant-%%' AND m.id %% 10 = 0", {"days": max(1, int(days))}).rowcount
    return {"rows": rows, "monitors": monitors, "regions": len(used), "maintenance": windows}


def late_rows(dsn: str, monitor_ids: list[int], hours: int, seed_: int = 5) -> int:
    """One late result in each of ``hours`` random rolled hours of random monitors (in a
    region of their own, so no stored row is replaced): the late-row trigger marks those
    (monitor, hour) pairs dirty, and readers take them from raw rows until the aggregator
    rolls them again. Returns the number of dirty pairs."""
    rng = np.random.default_rng(seed_)
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO regions (name) VALUES ('late') ON CONFLICT DO NOTHING")
        region = conn.execute("SELECT id FROM regions WHERE name = 'late'").fetchone()[0]
        until = conn.execute("SELECT rolled_until FROM rollup_state WHERE width = '1 hour'").fetchone()[0]
        newest = int(until.timestamp()) - 3600
        picked = rng.integers(newest - 25 * 86_400, newest, hours) // 3600 * 3600 + 17
        n = len(picked)
        copy_columns(conn, Columns(time=picked.astype(np.int64),
                                   monitor_id=rng.choice(np.asarray(monitor_ids, dtype=np.int32), n),
                                   region_id=np.full(n, region, dtype=np.int16),
                                   latency_us=rng.integers(20_000, 400_000, n), up=np.ones(n, dtype=bool),
                                   error_kind=np.zeros(n, dtype=np.int16)))
        conn.commit()
        return conn.execute("SELECT count(*) FROM rollup_dirty WHERE bucket > %s",
                            (datetime.fromtimestamp(time.time(), UTC) - timedelta(days=40),)).fetchone()[0]
