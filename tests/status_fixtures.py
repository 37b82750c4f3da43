"""History for the status page tests: monitors with 90 days of results (written with the
seeder's binary COPY) rolled up by the real aggregator, so pages read the same stores as in
production. One monitor has a known outage two days ago and is down now."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import psycopg

from aggregator.history import Columns, copy_columns
from aggregator.rollup import roll
from vigil.constants import ErrorKind
from vigil.db import open_pool

INTERVAL = 600
DAYS = 90
OUTAGE_SLOTS = 6  # one hour down, two days ago


@dataclass
class History:
    ids: dict[str, int]
    outage_day: str  # ISO date of the outage


def write_history(db: psycopg.Connection, account_id: int, names: list[str], *, down_now: str | None = None,
                  days: int = DAYS, interval: int = INTERVAL) -> History:
    db.execute("INSERT INTO regions (name) VALUES ('eu') ON CONFLICT DO NOTHING")
    region = db.execute("SELECT id FROM regions WHERE name = 'eu'").fetchone()[0]
    now = int(time.time())
    end = now - now % interval
    start = end - days * 86_400
    slots = np.arange(start, end + 1, interval, dtype=np.int64)
    outage_at = (end // 86_400 - 2) * 86_400 + 12 * 3600
    ids = {}
    for name in names:
        mid = db.execute(
            "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions, created_at)"
            " VALUES (%s, %s, 'http', %s, %s, 5000, '{eu}', now() - interval '100 days') RETURNING id",
            (account_id, name, f"https://user:hunter2@{name}.internal.example/health", interval)).fetchone()[0]
        ids[name] = mid
        down = (slots >= outage_at) & (slots < outage_at + OUTAGE_SLOTS * interval)
        if name == down_now:
            down |= slots >= end - 2 * interval
        rng = np.random.default_rng(mid)
        copy_columns(db, Columns(time=slots, monitor_id=np.full(len(slots), mid, dtype=np.int32),
                                 region_id=np.full(len(slots), region, dtype=np.int16),
                                 latency_us=rng.lognormal(np.log(40_000), 0.4, len(slots)).astype(np.int32),
                                 up=~down, error_kind=np.where(down, int(ErrorKind.http_status), 0).astype(np.int16)))
    return History(ids, time.strftime("%Y-%m-%d", time.gmtime(outage_at)))


async def roll_up(dsn: str) -> int:
    pool = await open_pool(dsn, min_size=1, max_size=1)
    try:
        return await roll(pool)
    finally:
        await pool.close()
