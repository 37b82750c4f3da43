"""Synthetic check history, generated with numpy and written with binary COPY.

Used by `vigil seed`, the queries benchmark and the analytics tests. Rows are built as a
numpy structured array in PostgreSQL's binary COPY layout (big-endian, a length before
every field), so a million rows are encoded in milliseconds rather than row by row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg

from ingest.slots import phase_for
from vigil.constants import ErrorKind
from vigil.results import COPY_FIELDS, copy_statement

PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 in Unix microseconds
_ROW = np.dtype([("nfields", ">i2")] + [x for f, t in COPY_FIELDS for x in ((f + "_len", ">i4"), (f, t))],
                align=False)
_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_TRAILER = b"\xff\xff"
COPY_SQL = copy_statement()


@dataclass
class Columns:
    """Result rows as arrays: time in Unix seconds, the rest as check_results."""

    time: np.ndarray
    monitor_id: np.ndarray
    region_id: np.ndarray
    latency_us: np.ndarray
    up: np.ndarray
    error_kind: np.ndarray

    def __len__(self) -> int:
        return len(self.time)


def encode(cols: Columns) -> bytes:
    """Binary COPY payload for check_results."""
    n = len(cols)
    rows = np.zeros(n, dtype=_ROW)
    rows["nfields"] = len(COPY_FIELDS)
    for name, typ in COPY_FIELDS:
        rows[name + "_len"] = np.dtype(typ).itemsize
    rows["time"] = cols.time.astype(np.int64) * 1_000_000 - PG_EPOCH_US
    rows["monitor_id"] = cols.monitor_id
    lat = np.where(cols.up | (cols.error_kind != ErrorKind.missed), cols.latency_us, 0)
    rows["latency_us"] = lat
    rows["connect_us"] = lat // 5
    rows["ttfb_us"] = lat // 2
    rows["region_id"] = cols.region_id
    rows["error_kind"] = cols.error_kind
    rows["status_code"] = np.where(cols.up, 200, np.where(cols.error_kind == ErrorKind.http_status, 503, 0))
    rows["attempts"] = 1
    rows["up"] = cols.up
    return _HEADER + rows.tobytes() + _TRAILER


def copy_columns(conn: psycopg.Connection, cols: Columns) -> None:
    with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
        copy.write(encode(cols))


def latencies(rng: np.random.Generator, shape: str, median_us: float, n: int) -> np.ndarray:
    """Latency samples in µs: 'lognormal', 'bimodal' (cache hits and misses) or 'pareto'."""
    if shape == "lognormal":
        v = rng.lognormal(np.log(median_us), 0.5, n)
    elif shape == "bimodal":
        slow = rng.random(n) < 0.2
        v = np.where(slow, rng.lognormal(np.log(median_us * 6), 0.25, n),
                     rng.lognormal(np.log(median_us), 0.2, n))
    elif shape == "pareto":
        v = median_us * 0.6 * (1 + rng.pareto(2.2, n))
    else:
        raise ValueError(f"unknown latency shape {shape!r}")
    return np.clip(v, 1, 60_000_000).astype(np.int64)


SHAPES = ("lognormal", "bimodal", "pareto")


def monitor_history(rng: np.random.Generator, monitor_id: int, region_ids: list[int], start: int,
                    end: int, interval_s: int, shape: str, incident_rate_per_day: float = 0.3,
                    missed_rate: float = 0.002) -> Columns:
    """Every slot of one monitor in [start, end) for each region: latencies of one shape,
    incidents (runs of down results, all regions or one), some missed slots."""
    phase = phase_for(monitor_id, interval_s)
    first = start + (phase - start) % interval_s
    slots = np.arange(first, end, interval_s, dtype=np.int64)
    nr, ns = len(region_ids), len(slots)
    down = np.zeros((nr, ns), dtype=bool)
    n_incidents = rng.poisson(incident_rate_per_day * (end - start) / 86_400)
    for _ in range(n_incidents):
        at = rng.integers(0, max(ns, 1))
        length = max(1, int(rng.lognormal(np.log(900 / interval_s), 0.8)))
        which = slice(None) if rng.random() < 0.6 else rng.integers(0, nr)
        down[which, at:at + length] = True
    missed = rng.random((nr, ns)) < missed_rate
    median_us = float(rng.uniform(20_000, 300_000))
    lat = latencies(rng, shape, median_us, nr * ns).reshape(nr, ns)
    up = ~down & ~missed
    kind = np.where(missed, int(ErrorKind.missed),
                    np.where(down, int(ErrorKind.http_status), int(ErrorKind.none)))
    return Columns(time=np.tile(slots, nr), monitor_id=np.full(nr * ns, monitor_id, dtype=np.int32),
                   region_id=np.repeat(np.asarray(region_ids, dtype=np.int16), ns),
                   latency_us=lat.ravel(), up=up.ravel(), error_kind=kind.ravel().astype(np.int16))


def concat(parts: list[Columns]) -> Columns:
    cols = Columns(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("time", "monitor_id", "region_id", "latency_us", "up", "error_kind")))
    order = np.argsort(cols.time, kind="stable")
    return Columns(*(getattr(cols, f)[order] for f in
                     ("time", "monitor_id", "region_id", "latency_us", "up", "error_kind")))
