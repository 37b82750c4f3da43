"""Helpers for the analytics tests: monitors with regions, synthetic history written with
binary COPY, and the exact answers computed independently from the same rows (numpy)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import psycopg

from aggregator.history import Columns, copy_columns
from aggregator.rollup import roll
from vigil.constants import ErrorKind
from vigil.db import open_pool

HOUR = 3600
DAY = 86_400


def ts(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def make_monitor(db: psycopg.Connection, regions: list[str], quorum: int = 1) -> tuple[int, list[int]]:
    """A monitor in account 'analytics' checked from ``regions``; returns (id, region ids)."""
    db.execute("INSERT INTO regions (name) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (regions,))
    account = db.execute("INSERT INTO accounts (name) VALUES ('analytics') ON CONFLICT (name) "
                         "DO UPDATE SET name = EXCLUDED.name RETURNING id").fetchone()[0]
    mid = db.execute("INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, "
                     "regions, region_quorum) VALUES (%s, 'm', 'http', 'https://example.com', 60, 1000, "
                     "%s, %s) RETURNING id", (account, regions, quorum)).fetchone()[0]
    ids = [db.execute("SELECT id FROM regions WHERE name = %s", (r,)).fetchone()[0] for r in regions]
    return mid, ids


def insert(db: psycopg.Connection, cols: Columns) -> None:
    copy_columns(db, cols)


def select(cols: Columns, mask: np.ndarray) -> Columns:
    return Columns(*(getattr(cols, f)[mask] for f in
                     ("time", "monitor_id", "region_id", "latency_us", "up", "error_kind")))


def exact(cols: Columns, monitor_id: int, from_ts: float, to_ts: float, quorum: int = 1,
          region_id: int | None = None) -> dict:
    """The answer from raw rows: slot counts (quorum rule, or one region's rows) and the
    exact latency percentiles (numpy 'linear' = percentile_cont) of up results."""
    m = (cols.monitor_id == monitor_id) & (cols.time >= from_ts) & (cols.time < to_ts)
    if region_id is not None:
        m &= cols.region_id == region_id
    c = select(cols, m)
    missed = ~c.up & (c.error_kind == ErrorKind.missed)
    down = ~c.up & ~missed
    if region_id is not None:
        up_s, down_s, missed_s, slots = int(c.up.sum()), int(down.sum()), int(missed.sum()), len(c)
    else:
        times, inv = np.unique(c.time, return_inverse=True)
        n_up = np.bincount(inv, weights=c.up, minlength=len(times))
        n_down = np.bincount(inv, weights=down, minlength=len(times))
        is_down = n_down >= quorum
        is_missed = n_up + n_down < quorum
        slots = len(times)
        down_s, missed_s = int(is_down.sum()), int(is_missed.sum())
        up_s = slots - down_s - missed_s
    lat = c.latency_us[c.up]
    pct = dict(zip((0.5, 0.9, 0.95, 0.99, 0.999), np.percentile(lat, [50, 90, 95, 99, 99.9]), strict=True)) \
        if len(lat) else {}
    return {"slots": slots, "up_slots": up_s, "down_slots": down_s, "missed_slots": missed_s,
            "checks": int((~missed).sum()), "latency_min_us": int(lat.min()) if len(lat) else None,
            "latency_max_us": int(lat.max()) if len(lat) else None, "latency_sum_us": int(lat.sum()),
            "percentiles": pct}


def snapshot(db: psycopg.Connection) -> tuple[list, ...]:
    """Every rollup row, for comparing two states of the tables."""
    return tuple(db.execute(f"SELECT * FROM {table} ORDER BY monitor_id, region_id, bucket").fetchall()
                 for table in ("rollup_1h", "rollup_1d", "rollup_7d", "rollup_28d"))


async def roll_all(settings) -> int:
    """One aggregator run over everything due (aggregator.rollup.roll); returns hours rolled."""
    pool = await open_pool(settings.database_url)
    try:
        return await roll(pool)
    finally:
        await pool.close()
