"""`vigil seed`: realistic check history for demos and benchmarks, straight into
check_results with binary COPY.

Monitors are created disabled (the scheduler must not start checking made-up targets),
tagged 'seed' and their latency shape; each gets lognormal, bimodal or Pareto latencies
around its own median, incidents (runs of down results in all regions or one) and a few
missed slots. The session skips the late-row trigger when it may
(session_replication_role needs a superuser) and then marks the seeded hours that were
already rolled up as dirty itself, so the aggregator re-rolls them either way."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import psycopg
from psycopg import errors

from aggregator.history import SHAPES, concat, copy_columns, monitor_history

MONITORS_PER_COPY = 20


@dataclass
class SeedPlan:
    monitors: int
    days: float
    regions: list[str]
    interval_s: int = 60
    account: str = "seed"
    quorum: int = 1
    seed: int = 1
    end: int | None = None  # Unix seconds; default now

    def check(self) -> None:
        if self.monitors < 1:
            raise ValueError(f"--monitors must be at least 1, got {self.monitors}")
        if not 0 < self.days <= 3650:
            raise ValueError(f"--days must be in (0, 3650], got {self.days}")
        if not 10 <= self.interval_s <= 86_400:
            raise ValueError(f"--interval must be 10..86400 seconds, got {self.interval_s}")
        if not self.regions or len(set(self.regions)) != len(self.regions):
            raise ValueError(f"--regions must name distinct regions, got {','.join(self.regions)!r}")
        if not 1 <= self.quorum <= len(self.regions):
            raise ValueError(f"--quorum must be 1..{len(self.regions)}, got {self.quorum}")


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int, width: int = 30) -> None:
        self.total, self.width, self.done, self.started = total, width, 0, time.perf_counter()

    def add(self, n: int) -> None:
        self.done += n
        frac = self.done / self.total if self.total else 1.0
        rate = self.done / max(time.perf_counter() - self.started, 1e-9)
        bar = "#" * int(frac * self.width)
        sys.stderr.write(f"\rseeding [{bar:<{self.width}}] {frac:6.1%} {self.done:,}/{self.total:,} rows "
                         f"{rate:,.0f} rows/s")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def _create_monitors(conn: psycopg.Connection, plan: SeedPlan) -> tuple[list[int], list[int]]:
    conn.execute("INSERT INTO regions (name) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (plan.regions,))
    region_ids = [conn.execute("SELECT id FROM regions WHERE name = %s", (r,)).fetchone()[0] for r in plan.regions]
    account = conn.execute("INSERT INTO accounts (name) VALUES (%s) ON CONFLICT (name) "
                           "DO UPDATE SET name = EXCLUDED.name RETURNING id", (plan.account,)).fetchone()[0]
    rows = conn.execute(
        "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions, tags, "
        "enabled, region_quorum) "
        "SELECT %(account)s, 'seed-' || g, 'http', 'https://seed.example/' || g, %(interval)s, "
        "least(10000, %(interval)s * 1000), %(regions)s, ARRAY['seed', (%(shapes)s::text[])[1 + g %% 3]], "
        "false, %(quorum)s FROM generate_series(0, %(n)s - 1) AS g ORDER BY g RETURNING id",
        {"account": account, "interval": plan.interval_s, "regions": plan.regions, "shapes": list(SHAPES),
         "quorum": plan.quorum, "n": plan.monitors}).fetchall()
    return [r[0] for r in rows], region_ids


def _skip_trigger(conn: psycopg.Connection) -> bool:
    try:
        with conn.transaction():
            conn.execute("SET session_replication_role = replica")
        return True
    except errors.InsufficientPrivilege:
        return False


def seed(dsn: str, plan: SeedPlan, progress: bool = True) -> dict:
    """Create the monitors and their history; returns what was written."""
    plan.check()
    end = plan.end if plan.end is not None else int(time.time())
    start = end - int(plan.days * 86_400)
    rng = np.random.default_rng(plan.seed)
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT kept_from FROM retention_horizons WHERE source = 'raw'").fetchone()
        kept_from = row[0] if row else None
        if kept_from is not None and datetime.fromtimestamp(start, UTC) < kept_from:
            raise ValueError(f"the history would start before {kept_from:%Y-%m-%d %H:%M} UTC, where "
                             "retention already dropped raw rows: seed fewer days")
        monitor_ids, region_ids = _create_monitors(conn, plan)
        conn.commit()
        skipped = _skip_trigger(conn)
        per_monitor = int(plan.days * 86_400 / plan.interval_s) * len(region_ids)
        bar = Progress(per_monitor * len(monitor_ids)) if progress else None
        rows = 0
        for i in range(0, len(monitor_ids), MONITORS_PER_COPY):
            batch = [monitor_history(rng, mid, region_ids, start, end, plan.interval_s,
                                     SHAPES[(mid - monitor_ids[0]) % 3])
                     for mid in monitor_ids[i:i + MONITORS_PER_COPY]]
            cols = concat(batch)
            with conn.transaction():
                copy_columns(conn, cols)
            rows += len(cols)
            if bar:
                bar.add(len(cols))
        if bar:
            bar.close()
        if skipped:
            conn.execute("SET session_replication_role = DEFAULT")
            conn.execute(
                "INSERT INTO rollup_dirty (monitor_id, bucket) SELECT m, h FROM unnest(%(ids)s::integer[]) AS m, "
                "generate_series(time_bucket('1 hour', %(s)s::timestamptz), %(e)s::timestamptz, interval '1 hour') AS h "
                "WHERE h < (SELECT rolled_until FROM rollup_state WHERE width = '1 hour') "
                "ON CONFLICT DO NOTHING", {"ids": monitor_ids, "s": datetime.fromtimestamp(start, UTC),
                                           "e": datetime.fromtimestamp(end, UTC)})
            conn.commit()
    return {"monitors": len(monitor_ids), "first_monitor_id": monitor_ids[0], "regions": plan.regions,
            "rows": rows, "from": start, "to": end}

