"""Window statistics for readers (stats API, status pages, reports): the Python side of the SQL window functions.

A window [from_ts, to_ts) is read from the coarsest rolled, clean rollups that fit in it
(four-week blocks, weeks, days, hours) and raw rows for the rest: the plan of
``aggregator.window_plan``. SQL callers use ``vigil_window_stats``, which reads days, hours
and raw rows; tests hold both to identical answers. One statement (``window_read``) returns
one row:

* from ``vigil_window_rolled`` (its plan generic and cached for the session): what the plan
  depends on besides the window (the rollup watermarks, the raw horizon, the asked
  monitors' dirty hours and quorums) and the rolled pieces summed per monitor, or per
  monitor and region, on the server, all as arrays (the histograms' entries as one
  ``bytea``);
* the raw rows of the raw ranges (planned with their bounds) as arrays, summarised here
  with numpy (``aggregator.raw_stats``).

Both load straight into numpy. Both parts see one snapshot, so a retention run between
them cannot take raw rows the plan counted on (one statement measured as fast as the two
in a pipeline). The plan is made from the state seen last (watermarks move once an hour,
dirty hours rarely); when the state returned with it gives another plan, the window is
read again with that one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg import postgres
from psycopg.adapt import Loader
from psycopg.pq import Format
from psycopg.rows import tuple_row

from aggregator import histogram
from aggregator.history import Columns
from aggregator.raw_stats import raw_stats
from aggregator.window_plan import DAY, HOUR, RawRange, WindowPlan, ceil_to, floor_to, plan_window
from vigil.queries import sql

COUNTS = ("slots", "up_slots", "down_slots", "missed_slots", "checks", "latency_sum_us")
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # binary timestamptz: microseconds since then
# A piece: its key, then the columns merged across pieces.
PIECE = ("monitor_id", "region_id", "slots", "up_slots", "down_slots", "missed_slots", "checks",
         "latency_min_us", "latency_max_us", "latency_sum_us", "hist")
NO_LATENCY = -1  # window_rolled's latency_min_us/latency_max_us of a piece without up results


def _array_loader(element: str) -> type[Loader]:
    """A loader of a binary one-dimensional array of fixed-size elements without NULLs
    (``element``: the numpy type of one, big-endian) into a numpy array. The binary array is:
    ndim, flags, element oid, (length, lower bound) per dimension, then (size, value) per
    element."""
    item = np.dtype([("size", ">i4"), ("value", element)])
    native = np.dtype(element).newbyteorder("=")

    class ArrayLoader(Loader):
        format = Format.BINARY

        def load(self, data: Any) -> np.ndarray:
            ndim = int.from_bytes(data[:4], "big")
            if ndim == 0:
                return np.zeros(0, dtype=native)
            return np.frombuffer(data, dtype=item, offset=12 + 8 * ndim)["value"].astype(native)
    return ArrayLoader


_ARRAY_LOADERS = {postgres.types[name].array_oid: _array_loader(element) for name, element in
                  (("int2", ">i2"), ("int4", ">i4"), ("int8", ">i8"), ("bool", "u1"), ("timestamptz", ">i8"))}


def _cursor(conn: psycopg.AsyncConnection) -> psycopg.AsyncCursor:
    cur = conn.cursor(row_factory=tuple_row, binary=True)
    for oid, loader in _ARRAY_LOADERS.items():
        cur.adapters.register_loader(oid, loader)
    return cur


def _less_hours(ranges: list[tuple[datetime, datetime]],
                dirty: list[tuple[int, datetime]]) -> list[tuple[datetime, datetime]]:
    """Ranges of hours of one monitor, less its dirty hours (read from raw rows instead)."""
    out = []
    for a, b in ranges:
        for h in sorted(h for _, h in dirty if a <= h < b):
            if a < h:
                out.append((a, h))
            a = h + HOUR
        if a < b:
            out.append((a, b))
    return out


@dataclass(frozen=True, slots=True)
class Plans:
    """A window's plans: ``together`` for every asked monitor not in ``own``."""

    together: WindowPlan
    own: dict[int, WindowPlan]

    def rolled_params(self, ids: list[int]) -> dict[str, Any]:
        """window_rolled's ranges: monitor 0 for the monitors planned together."""
        params: dict[str, Any] = {"planned_ids": [m for m in ids if m not in self.own]}
        for level in ("four_weeks", "weeks", "days", "hours"):
            ranges = [(0, a, b) for a, b in getattr(self.together, level)]
            for m, plan in self.own.items():
                own = getattr(plan, level)
                ranges += [(m, a, b) for a, b in (_less_hours(own, plan.dirty) if level == "hours" else own)]
            name = level.removesuffix("s")
            params[f"{name}_m"] = [m for m, _, _ in ranges]
            params[f"{name}_from"] = [a for _, a, _ in ranges]
            params[f"{name}_to"] = [b for _, _, b in ranges]
        return params

    def raw(self) -> list[RawRange]:
        """The raw ranges: the window's ends (alike in every plan) and the own plans' dirty
        hours, one range per hour for all the monitors dirty in it."""
        dirty: dict[tuple[datetime, datetime], list[int]] = {}
        for plan in self.own.values():
            for r in plan.raw:
                if r.monitor_ids:
                    dirty.setdefault((r.start, r.end), []).extend(r.monitor_ids)
        return [*self.together.raw, *(RawRange(a, b, tuple(sorted(ms))) for (a, b), ms in sorted(dirty.items()))]


@dataclass(frozen=True, slots=True)
class _State:
    """What a window's plan depends on besides the window."""

    hourly_until: datetime | None
    daily_until: datetime | None
    weekly_until: datetime | None
    four_weekly_until: datetime | None
    raw_from: datetime | None
    dirty: tuple[tuple[int, datetime], ...]

    def plan(self, from_ts: datetime, to_ts: datetime, dirty: list[tuple[int, datetime]]) -> WindowPlan:
        return plan_window(from_ts, to_ts, self.hourly_until, self.daily_until, self.raw_from, dirty,
                           self.weekly_until, self.four_weekly_until)

    def plans(self, from_ts: datetime, to_ts: datetime) -> Plans:
        """One plan for the monitors without dirty hours in the window, and one of its own
        for each monitor with some: a late row keeps only its own monitor's day and blocks
        out, so one dirty monitor does not send a whole group to hourly rollups."""
        together = self.plan(from_ts, to_ts, [])
        by_monitor: dict[int, list[tuple[int, datetime]]] = {}
        for m, h in self.dirty:
            by_monitor.setdefault(m, []).append((m, h))
        own = {m: plan for m, pairs in by_monitor.items() if (plan := self.plan(from_ts, to_ts, pairs)) != together}
        return Plans(together, own)

    def with_dirty(self, dirty: tuple[tuple[int, datetime], ...]) -> _State:
        return _State(self.hourly_until, self.daily_until, self.weekly_until, self.four_weekly_until,
                      self.raw_from, dirty)


# The state seen last: the watermarks and the horizon, and the dirty hours per set of asked
# monitors (bounded: a set not seen is planned as clean and checked like any other).
_last_seen: _State | None = None
_dirty_seen: dict[tuple[int, ...], tuple[tuple[int, datetime], ...]] = {}
DIRTY_SEEN_MAX = 4096


def _rolled(row: tuple, per_region: bool) -> tuple[_State, dict[int, int], list[tuple]]:
    """window_rolled's row -> (state, quorum per monitor, rolled pieces as PIECE tuples)."""
    (hourly, daily, weekly, four_weekly, raw_from, dirty_m, dirty_h, quorum_m, quorum_k,
     m, r, slots, ups, downs, misses, checks, lo, hi, total, hist_bytes, hist_data) = row
    dirty = tuple((int(a), PG_EPOCH + timedelta(microseconds=int(b))) for a, b in zip(dirty_m, dirty_h, strict=True))
    state = _State(hourly, daily, weekly, four_weekly, raw_from, dirty)
    quorum = dict(zip(quorum_m.tolist(), quorum_k.tolist(), strict=True))
    if m is None:
        return state, quorum, []
    entries = np.frombuffer(hist_data or b"", dtype=">i4")[1::2]  # (size, value) pairs: the values
    ends = np.cumsum(hist_bytes) // 8
    starts = ends - hist_bytes // 8
    pieces = []
    for i, (mi, ri, s, u, d, x, c, a, b, t) in enumerate(zip(
            m.tolist(), r.tolist(), slots.tolist(), ups.tolist(), downs.tolist(), misses.tolist(),
            checks.tolist(), lo.tolist(), hi.tolist(), total.tolist(), strict=True)):
        pieces.append((mi, ri if per_region else 0, s, u, d, x, c, None if a == NO_LATENCY else a,
                       None if b == NO_LATENCY else b, t, entries[starts[i]:ends[i]]))
    return state, quorum, pieces


def _read_query(plans: Plans, ids: list[int]) -> tuple[str, dict[str, Any]]:
    """window_read with its raw ranges, and their parameters."""
    scan = sql("window_raw_range")
    params: dict[str, Any] = {}
    scans = []
    for n, r in enumerate(plans.raw()):
        scans.append(scan.replace("{n}", str(n)))
        params.update({f"ids{n}": list(r.monitor_ids or ids), f"start{n}": r.start, f"end{n}": r.end})
    if not scans:  # no raw range: an empty one keeps the statement's shape
        lo = plans.together.lo
        scans.append(scan.replace("{n}", "0"))
        params.update({"ids0": [], "start0": lo, "end0": lo})
    return sql("window_read").replace("{ranges}", " UNION ALL ".join(scans)), params


ROLLED_COLUMNS = 21  # window_read's columns from vigil_window_rolled; the raw arrays follow


async def _fetch(conn: psycopg.AsyncConnection, ids: list[int], from_ts: datetime, to_ts: datetime,
                 plans: Plans, per_region: bool) -> tuple[tuple, tuple]:
    """(the rolled part of window_read's row, its raw part)."""
    query, params = _read_query(plans, ids)
    cur = _cursor(conn)
    # Never prepared: a cached generic plan would pay run-time chunk exclusion on every chunk
    # of check_results at each execution.
    await cur.execute(query, {"ids": ids, "from_ts": from_ts, "to_ts": to_ts, "per_region": per_region,
                              **plans.rolled_params(ids), **params}, prepare=False)
    row = await cur.fetchone()
    return row[:ROLLED_COLUMNS], row[ROLLED_COLUMNS:]


async def _pieces(conn: psycopg.AsyncConnection, monitor_ids: Sequence[int], from_ts: datetime,
                  to_ts: datetime, per_region: bool) -> list[tuple]:
    global _last_seen
    ids = sorted(set(monitor_ids))
    key = tuple(ids)
    guess = (_last_seen or _State(None, None, None, None, None, ())).with_dirty(_dirty_seen.get(key, ()))
    plans = guess.plans(from_ts, to_ts)
    rolled_row, raw_row = await _fetch(conn, ids, from_ts, to_ts, plans, per_region)
    state, quorum, pieces = _rolled(rolled_row, per_region)
    _last_seen = state
    if len(_dirty_seen) >= DIRTY_SEEN_MAX:
        _dirty_seen.clear()
    _dirty_seen[key] = state.dirty
    if state != guess and (fresh := state.plans(from_ts, to_ts)) != plans:
        rolled_row, raw_row = await _fetch(conn, ids, from_ts, to_ts, fresh, per_region)
        state, quorum, pieces = _rolled(rolled_row, per_region)
    if raw_row[0] is not None:
        m, r, t, up, ek, lat = raw_row
        pieces += raw_stats(Columns(time=t, monitor_id=m, region_id=r, latency_us=lat, up=up, error_kind=ek),
                            quorum, per_region)
    return pieces


def _merge(pieces: list[tuple], per_region: bool) -> list[dict[str, Any]]:
    """Pieces (PIECE tuples; at most one rolled and one raw per key) -> one dict per key,
    sorted by key."""
    groups: dict[tuple[int, int], list[tuple]] = {}
    for p in pieces:
        groups.setdefault((p[0], p[1]), []).append(p)
    out = []
    for (monitor_id, region_id), rows in sorted(groups.items()):
        merged: dict[str, Any] = {"monitor_id": monitor_id}
        if per_region:
            merged["region_id"] = region_id
        if len(rows) == 1:
            merged.update(zip(PIECE[2:], rows[0][2:], strict=True))
            merged["hist"] = histogram.merge([rows[0][-1]])
        else:
            for i, c in enumerate(PIECE[2:-1], 2):
                values = [r[i] for r in rows]
                if c == "latency_min_us":
                    merged[c] = min((v for v in values if v is not None), default=None)
                elif c == "latency_max_us":
                    merged[c] = max((v for v in values if v is not None), default=None)
                else:
                    merged[c] = sum(values)
            merged["hist"] = histogram.merge(r[-1] for r in rows)
        out.append(merged)
    return out


async def window_stats(conn: psycopg.AsyncConnection, monitor_ids: Sequence[int], from_ts: datetime,
                       to_ts: datetime) -> list[dict[str, Any]]:
    """One dict per monitor with results in [from_ts, to_ts), as vigil_window_stats: slots,
    up_slots, down_slots, missed_slots, checks, latency_min_us, latency_max_us,
    latency_sum_us, hist (numpy packed entries); plus derived fields (see ``derive``)."""
    return [derive(m) for m in _merge(await _pieces(conn, monitor_ids, from_ts, to_ts, False), False)]


async def window_region_stats(conn: psycopg.AsyncConnection, monitor_ids: Sequence[int],
                              from_ts: datetime, to_ts: datetime) -> list[dict[str, Any]]:
    """As window_stats, one dict per (monitor_id, region_id), no quorum."""
    return [derive(m) for m in _merge(await _pieces(conn, monitor_ids, from_ts, to_ts, True), True)]


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


@dataclass(frozen=True, slots=True)
class Horizons:
    """From when on each store is whole (retention_horizons; None: nothing dropped yet)."""

    raw: datetime | None = None
    hourly: datetime | None = None
    daily: datetime | None = None


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
    lo = ceil_to(start, HOUR)
    if kept.hourly is not None and lo < kept.hourly:
        lo = min(max(lo, kept.hourly), ceil_to(start, DAY))
    if kept.daily is not None:
        lo = max(lo, kept.daily)
    hi = end
    if end < kept.raw:
        hi = floor_to(end, HOUR)
        if kept.hourly is not None and hi < kept.hourly:
            hi = floor_to(end, DAY)
    lo = min(lo, end)
    return lo, max(lo, hi)
