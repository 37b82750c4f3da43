"""The latency histogram layout, defined here once and mirrored in SQL (sql/functions/histogram.sql).

Buckets are logarithmic (DDSketch-like) over integer microseconds: bound k is
``ceil(GAMMA ** k)``, duplicates dropped, so values below ~100 µs each get their own
bucket and above that a bucket spans a factor GAMMA. A value v falls in bucket
``i = number of bounds <= v`` (numpy ``searchsorted(side="right")`` here, PostgreSQL's
``width_bucket(v, bounds)`` in SQL: the same integer comparisons, so the same bucket).
Bucket i >= 1 holds [BOUNDS[i-1], BOUNDS[i]); its value is the midpoint of the integers
in it, within MAX_RELATIVE_ERROR (0.503 %) of any of them. Bucket 0 holds latencies below 1 µs.

A histogram is stored sparsely as an int4[] of packed entries ``index + 2048 * count``
(11 bits of index, up to 2**20 - 1 of count; a larger count is split over several
entries), sorted by index, one entry per bucket unless split: a typical hourly row of 60
results is 24 + 4 * 60 = 264 bytes. That canonical form is the same whichever side built
it, so Python and SQL answers can be compared exactly.

Quantiles follow percentile_cont: rank q * (n - 1), interpolated between the values of
the buckets holding its floor and ceiling ranks, so the estimate is within
MAX_RELATIVE_ERROR of the exact percentile_cont answer."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

ALPHA = 0.005                        # relative accuracy of a bucket's value
GAMMA = (1 + ALPHA) / (1 - ALPHA)    # ratio between consecutive bounds
MAX_RELATIVE_ERROR = (GAMMA - 1) / 2  # of a bucket's value to any value in it: 0.503 %
MAX_VALUE = 2**31 - 1                # latency_us is an int4
INDEX_BITS = 11
INDEX_MASK = (1 << INDEX_BITS) - 1
MAX_COUNT = (1 << (31 - INDEX_BITS)) - 1  # per packed entry; larger counts are split


def _bounds() -> np.ndarray:
    bounds: list[int] = []
    k = 0
    while not bounds or bounds[-1] <= MAX_VALUE:
        b = math.ceil(GAMMA ** k)
        if not bounds or b > bounds[-1]:
            bounds.append(b)
        k += 1
    return np.array(bounds, dtype=np.int64)


BOUNDS = _bounds()
assert len(BOUNDS) <= INDEX_MASK, "bucket indexes must fit in INDEX_BITS"
# Value of each bucket: 0 below the first bound, else the midpoint of its integers.
VALUES = np.concatenate(([0.0], (BOUNDS[:-1] + BOUNDS[1:] - 1) / 2.0, [float(BOUNDS[-1])]))
EMPTY = np.zeros(0, dtype=np.int32)


def bucket_index(values: np.ndarray | Sequence[int]) -> np.ndarray:
    return np.searchsorted(BOUNDS, np.asarray(values, dtype=np.int64), side="right")


def pack(indexes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(distinct sorted bucket indexes, their counts) -> canonical packed int4 entries."""
    indexes = np.asarray(indexes, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    keep = counts > 0
    indexes, counts = indexes[keep], counts[keep]
    pieces = (counts - 1) // MAX_COUNT + 1
    if (pieces == 1).all():
        return (indexes + (counts << INDEX_BITS)).astype(np.int32)
    idx = np.repeat(indexes, pieces)
    part = np.arange(len(idx)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    cnt = np.minimum(np.repeat(counts, pieces) - part * MAX_COUNT, MAX_COUNT)
    return (idx + (cnt << INDEX_BITS)).astype(np.int32)


def unpack(hist: np.ndarray | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Packed entries -> (bucket indexes, counts), as stored (indexes may repeat)."""
    h = np.asarray(hist, dtype=np.int64)
    return h & INDEX_MASK, h >> INDEX_BITS


def dense(hist: np.ndarray | Sequence[int]) -> np.ndarray:
    """Counts per bucket index, length len(VALUES)."""
    idx, cnt = unpack(hist)
    return np.bincount(idx, weights=cnt, minlength=len(VALUES)).astype(np.int64)


def from_dense(counts: np.ndarray) -> np.ndarray:
    nz = np.flatnonzero(counts)
    return pack(nz, counts[nz])


def record(values: np.ndarray | Sequence[int]) -> np.ndarray:
    """Histogram of latencies in microseconds."""
    if len(values) == 0:
        return EMPTY
    return from_dense(np.bincount(bucket_index(values), minlength=len(VALUES)))


def merge(hists: Iterable[np.ndarray | Sequence[int]]) -> np.ndarray:
    parts = [np.asarray(h, dtype=np.int64) for h in hists]
    return from_dense(dense(np.concatenate(parts))) if parts else EMPTY


def count(hist: np.ndarray | Sequence[int]) -> int:
    return int(unpack(hist)[1].sum())


def quantiles(hist: np.ndarray | Sequence[int], qs: Sequence[float]) -> list[float | None]:
    """Latency in µs at each quantile q in [0, 1] (None for an empty histogram)."""
    idx, cnt = unpack(hist)
    n = int(cnt.sum())
    if n == 0:
        return [None for _ in qs]
    for q in qs:
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile {q!r} is outside [0, 1]")
    cum = np.cumsum(cnt)
    rank = np.asarray(qs, dtype=np.float64) * (n - 1)
    lo, hi = np.floor(rank), np.ceil(rank)
    at = np.searchsorted(cum, np.concatenate((lo, hi)), side="right")
    v = VALUES[idx[at]]
    v_lo, v_hi = v[:len(rank)], v[len(rank):]
    return (v_lo + (rank - lo) * (v_hi - v_lo)).tolist()


def quantile(hist: np.ndarray | Sequence[int], q: float) -> float | None:
    return quantiles(hist, [q])[0]


def ms(us: float | int | None) -> float | None:
    """Microseconds -> milliseconds to 6 significant digits: a relative rounding error below
    5e-7 at every magnitude, so a percentile keeps the histogram's own bound (a fixed number
    of decimals would add up to 0.4 % to a sub-millisecond value)."""
    return None if us is None else float(f"{float(us) / 1000:.6g}")
