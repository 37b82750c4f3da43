"""Window statistics for readers (stats API, evaluator, reports): the Python side of the SQL window functions.

``window_stats`` answers from ``vigil_window_parts`` (rolled-up days and hours plus raw
rows for the parts not rolled yet) and merges the pieces here with numpy, which is the
same merge ``vigil_window_stats`` does in SQL (tests check both agree exactly) but avoids
SQL's slower array handling on the hot path. The pieces come in binary, histograms straight
into numpy arrays (``_HistLoader``), which halves the client's share of a 30-day query."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg import postgres
from psycopg.adapt import Loader
from psycopg.pq import Format
from psycopg.rows import dict_row, tuple_row

from aggregator import histogram
from vigil.queries import sql

# Up to this many monitors the pieces are merged here; beyond, SQL merges them (same
# answer, and a group of thousands of monitors does not cross the wire piece by piece).
MERGE_IN_PYTHON_UP_TO = 20
COUNTS = ("slots", "up_slots", "down_slots", "missed_slots", "checks", "latency_sum_us")
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}


class _HistLoader(Loader):
    """Binary int4[] (a vigil_hist; PostgreSQL reports a domain as its base type) -> numpy
    int32 array, without building a Python int per entry. The binary array is: ndim, flags,
    element oid, (length, lower bound) per dimension, then (4, value) per element; a
    histogram has no NULL entries."""

    format = Format.BINARY

    def load(self, data: Any) -> np.ndarray:
        ndim = int.from_bytes(data[:4], "big")
        if ndim == 0:
            return histogram.EMPTY
        return np.frombuffer(data, dtype=">i4", offset=12 + 8 * ndim)[1::2].astype(np.int32)


INT4_ARRAY_OID = postgres.types["int4"].array_oid


def _merge(columns: list[str], parts: list[tuple], key: tuple[str, ...]) -> list[dict[str, Any]]:
    """Pieces (rows of vigil_window_parts with these column names) -> one dict per key."""
    at = {c: i for i, c in enumerate(columns)}
    key_at = [at[k] for k in key]
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for p in parts:
        groups[tuple(p[i] for i in key_at)].append(p)
    out = []
    for k, rows in sorted(groups.items()):
        merged = dict(zip(key, k, strict=True))
        merged.update({c: sum(r[at[c]] for r in rows) for c in COUNTS})
        mins = [r[at["latency_min_us"]] for r in rows if r[at["latency_min_us"]] is not None]
        maxs = [r[at["latency_max_us"]] for r in rows if r[at["latency_max_us"]] is not None]
        merged["latency_min_us"] = min(mins) if mins else None
        merged["latency_max_us"] = max(maxs) if maxs else None
        merged["hist"] = histogram.merge(r[at["hist"]] for r in rows)
        out.append(merged)
    return out


async def _parts(conn: psycopg.AsyncConnection, monitor_ids: Sequence[int], from_ts: datetime,
                 to_ts: datetime, per_region: bool) -> tuple[list[str], list[tuple]]:
    cur = conn.cursor(row_factory=tuple_row, binary=True)
    cur.adapters.register_loader(INT4_ARRAY_OID, _HistLoader)
    await cur.execute(sql("window_parts"), {"ids": list(monitor_ids), "from_ts": from_ts,
                                            "to_ts": to_ts, "per_region": per_region})
    rows = await cur.fetchall()
    return [c.name for c in cur.description], rows


async def _merged(conn: psycopg.AsyncConnection, query: str, monitor_ids: Sequence[int], from_ts: datetime,
                  to_ts: datetime) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(sql(query), {"ids": list(monitor_ids), "from_ts": from_ts, "to_ts": to_ts})
    rows = await cur.fetchall()
    for r in rows:
        r["hist"] = np.asarray(r["hist"], dtype=np.int32)
    return rows


async def window_stats(conn: psycopg.AsyncConnection, monitor_ids: Sequence[int], from_ts: datetime,
                       to_ts: datetime) -> list[dict[str, Any]]:
    """One dict per monitor with results in [from_ts, to_ts), as vigil_window_stats: slots,
    up_slots, down_slots, missed_slots, checks, latency_min_us, latency_max_us,
    latency_sum_us, hist (numpy packed entries); plus derived fields (see ``derive``)."""
    if len(monitor_ids) > MERGE_IN_PYTHON_UP_TO:
        return [derive(m) for m in await _merged(conn, "window_stats", monitor_ids, from_ts, to_ts)]
    columns, parts = await _parts(conn, monitor_ids, from_ts, to_ts, False)
    return [derive(m) for m in _merge(columns, parts, ("monitor_id",))]


async def window_region_stats(conn: psycopg.AsyncConnection, monitor_ids: Sequence[int],
                              from_ts: datetime, to_ts: datetime) -> list[dict[str, Any]]:
    """As window_stats, one dict per (monitor_id, region_id), no quorum."""
    if len(monitor_ids) > MERGE_IN_PYTHON_UP_TO:
        return [derive(m) for m in await _merged(conn, "window_region_stats", monitor_ids, from_ts, to_ts)]
    columns, parts = await _parts(conn, monitor_ids, from_ts, to_ts, True)
    return [derive(m) for m in _merge(columns, parts, ("monitor_id", "region_id"))]


def derive(stats: dict[str, Any]) -> dict[str, Any]:
    """Add uptime (up / (up + down), None if both 0), latency_mean_us and p50..p999 in µs."""
    decided = stats["up_slots"] + stats["down_slots"]
    stats["uptime"] = stats["up_slots"] / decided if decided else None
    n = histogram.count(stats["hist"])
    stats["latency_mean_us"] = stats["latency_sum_us"] / n if n else None
    for name, q in zip(QUANTILES, histogram.quantiles(stats["hist"], list(QUANTILES.values())),
                       strict=True):
        stats[f"latency_{name}_us"] = q
    return stats


HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Horizons:
    """From when on each store is whole (retention_horizons; None: nothing dropped yet)."""

    raw: datetime | None = None
    hourly: datetime | None = None
    daily: datetime | None = None


def _floor(t: datetime, width: timedelta) -> datetime:
    return datetime.fromtimestamp(t.timestamp() // width.total_seconds() * width.total_seconds(), t.tzinfo)


def _ceil(t: datetime, width: timedelta) -> datetime:
    f = _floor(t, width)
    return f if f == t else f + width


def covered(start: datetime, end: datetime, kept: Horizons, raw_only: bool = False) -> tuple[datetime, datetime]:
    """The part [covered_from, covered_to) of the window [start, end) whose figures Vigil
    still holds, as the window functions read it: raw rows from the raw horizon on; before
    it, whole hours from hourly rollups and whole days from daily ones (a partial hour or day
    at either end is then left out). raw_only: for answers read from raw rows alone (slot
    lists, downtimes). An empty result has covered_from == covered_to."""
    if kept.raw is None or start >= kept.raw:
        return start, end
    if raw_only:
        lo = max(start, kept.raw)
        return min(lo, end), end
    lo = _ceil(start, HOUR)
    if kept.hourly is not None and lo < kept.hourly:
        lo = min(max(lo, kept.hourly), _ceil(start, DAY))
    if kept.daily is not None:
        lo = max(lo, kept.daily)
    hi = end
    if end < kept.raw:
        hi = _floor(end, HOUR)
        if kept.hourly is not None and hi < kept.hourly:
            hi = _floor(end, DAY)
    lo = min(lo, end)
    return lo, max(lo, hi)
