"""Known raw results for the stats API and Grafana tests, and their exact answers computed
here in Python from the same rows (slot quorum rule, percentile_cont percentiles)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from vigil.constants import ErrorKind

BASE = datetime(2026, 11, 20, tzinfo=UTC)
SLOTS = 180                      # three hours of one-minute slots
STEP = timedelta(minutes=1)
MISSED = int(ErrorKind.missed)


@dataclass
class Result:
    time: datetime
    monitor_id: int
    region: str
    up: bool
    error_kind: int
    latency_us: int


@dataclass
class Seeded:
    monitors: dict[str, dict] = field(default_factory=dict)   # name -> monitor row
    results: list[Result] = field(default_factory=list)

    def of(self, name: str, region: str | None = None) -> list[Result]:
        mid = self.monitors[name]["id"]
        return [r for r in self.results if r.monitor_id == mid and (region is None or r.region == region)]


def slot_status(rows: list[Result], quorum: int) -> str:
    down = sum(1 for r in rows if not r.up and r.error_kind != MISSED)
    usable = sum(1 for r in rows if r.error_kind != MISSED)
    return "down" if down >= quorum else "missed" if usable < quorum else "up"


def slots(rows: list[Result], quorum: int) -> dict[datetime, str]:
    by_time: dict[datetime, list[Result]] = {}
    for r in rows:
        by_time.setdefault(r.time, []).append(r)
    return {t: slot_status(rs, quorum) for t, rs in sorted(by_time.items())}


def percentile(rows: list[Result], q: float) -> float:
    """percentile_cont over the up results' latency, in ms."""
    return float(np.percentile([r.latency_us for r in rows if r.up], q * 100)) / 1000


def _m1_region_outcome(i: int, region: str) -> tuple[bool, int]:
    """Monitor 'shop' (eu, us, ap; quorum 2) slot i: (up, error_kind)."""
    if 30 <= i < 35 or 100 <= i < 110 or i >= 177:
        return (region == "ap", 0 if region == "ap" else int(ErrorKind.http_status))  # 2 of 3 down
    if i == 50 and region == "eu":
        return (False, int(ErrorKind.refused))          # one region down: below quorum, up
    if i in (60, 61):
        return (False, MISSED)                           # no region checked it: missed
    if i == 70:
        return (False, int(ErrorKind.refused) if region == "eu" else MISSED)  # 1 usable < quorum
    return (True, 0)


def seed(conn: psycopg.Connection, account_id: int, other_account_id: int) -> Seeded:
    rng = np.random.default_rng(4)
    out = Seeded()
    conn.execute("INSERT INTO regions (name) VALUES ('eu'), ('us'), ('ap') ON CONFLICT DO NOTHING")
    specs = [("shop", account_id, ["eu", "us", "ap"], 2, 99.0, ["web"]),
             ("blog", account_id, ["eu"], 1, 99.9, ["web"]),
             ("db", account_id, ["eu"], 1, 99.5, ["db"]),
             ("theirs", other_account_id, ["eu"], 1, 99.9, ["web"])]
    for name, acct, regions, quorum, slo, tags in specs:
        out.monitors[name] = conn.execute(
            "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions,"
            " region_quorum, slo_target, tags) VALUES (%s, %s, 'http', 'https://example.com/', 60, 10000,"
            " %s, %s, %s, %s) RETURNING id, interval_s, region_quorum, slo_target",
            (acct, name, regions, quorum, slo, tags)).fetchone()
    ids = {n: m[0] for n, m in out.monitors.items()}
    out.monitors = {n: {"id": m[0], "interval_s": m[1], "quorum": m[2], "slo": float(m[3])}
                    for n, m in out.monitors.items()}

    def add(name: str, i: int, region: str, up: bool, kind: int) -> None:
        latency = int(rng.lognormal(np.log(80_000), 0.5)) if up else (0 if kind == MISSED else 5_000)
        out.results.append(Result(BASE + i * STEP, ids[name], region, up, kind, latency))

    for i in range(SLOTS):
        if 120 <= i < 130:
            continue                                     # nothing stored: a gap in the series
        for region in ("eu", "us", "ap"):
            add("shop", i, region, *_m1_region_outcome(i, region))
        blog_down = i in (10, 11, 12)
        add("blog", i, "eu", not blog_down, int(ErrorKind.connect_timeout) if blog_down else 0)
        add("db", i, "eu", True, 0)
        add("theirs", i, "eu", True, 0)
    region_ids = dict(conn.execute("SELECT name, id FROM regions").fetchall())
    with conn.cursor().copy("COPY check_results (time, monitor_id, region_id, up, error_kind, latency_us)"
                            " FROM STDIN") as copy:
        for r in out.results:
            copy.write_row((r.time, r.monitor_id, region_ids[r.region], r.up, r.error_kind, r.latency_us))
    return out
