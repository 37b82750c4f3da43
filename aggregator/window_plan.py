"""Which store each part of a window [from_ts, to_ts) is read from, as a pure function of the
rollup watermarks, the raw horizon and the dirty (monitor, hour) pairs: whole clean days from
rollup_1d, other rolled clean hours from rollup_1h, the rest from raw rows (the window's
unaligned ends, the hours not rolled yet, dirty hours). The same rule as
vigil_window_parts (sql/functions/windows.sql), which SQL callers use; the readers in
aggregator/windows.py plan here and fetch each store with one plain statement. Whole rolled
four-week blocks and weeks of clean days come from rollup_28d and rollup_7d, each the merge
of its days, so a long window reads a few blocks instead of a row per day: the same sums.

With per-monitor dirtiness and the raw horizon:
* a day comes from rollup_1d unless one of the asked monitors has a dirty hour in it (and a
  block only if all its days would);
* an hour comes from rollup_1h except for the (monitor, hour) pairs that are dirty, which
  come from raw rows of that monitor alone;
* dirty marks below the raw horizon are ignored (the rollup is all there is), and the
  window's unaligned ends are read from raw only from the raw horizon on."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
FOUR_WEEKS = timedelta(days=28)
_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # time_bucket's origin: days start at UTC midnight


def floor_to(t: datetime, width: timedelta) -> datetime:
    """time_bucket(width, t) for widths of whole hours or days, exact to the microsecond."""
    return t - (t - _EPOCH) % width


def ceil_to(t: datetime, width: timedelta) -> datetime:
    f = floor_to(t, width)
    return f if f == t else f + width


@dataclass(frozen=True, slots=True)
class RawRange:
    """Raw rows in [start, end) of these monitors (None: every asked monitor)."""

    start: datetime
    end: datetime
    monitor_ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class WindowPlan:
    lo: datetime                                  # [lo, hi): the hour-aligned middle rollups may cover
    hi: datetime
    days: list[tuple[datetime, datetime]]         # ranges of whole clean days, from rollup_1d
    weeks: list[tuple[datetime, datetime]]        # ranges of whole clean weeks, from rollup_7d
    four_weeks: list[tuple[datetime, datetime]]   # ranges of whole clean four-week blocks, from rollup_28d
    hours: list[tuple[datetime, datetime]]        # ranges of hours from rollup_1h, less the dirty pairs
    dirty: list[tuple[int, datetime]]             # (monitor, hour) pairs read from raw instead
    raw: list[RawRange]


def _split(start: datetime, end: datetime, width: timedelta,
           until: datetime | None) -> tuple[list[tuple[datetime, datetime]], tuple[datetime, datetime] | None]:
    """Whole clean days [start, end) -> (the parts of it not in whole blocks of ``width``
    rolled by ``until``, the range of those blocks or None)."""
    first = ceil_to(start, width)
    last = floor_to(end if until is None else min(end, until), width)
    if until is None or first >= last:
        return [(start, end)], None
    return [(a, b) for a, b in ((start, first), (last, end)) if a < b], (first, last)


def plan_window(from_ts: datetime, to_ts: datetime, hourly_until: datetime | None,
                daily_until: datetime | None, raw_from: datetime | None,
                dirty: list[tuple[int, datetime]], weekly_until: datetime | None = None,
                four_weekly_until: datetime | None = None) -> WindowPlan:
    """hourly_until/daily_until/weekly_until/four_weekly_until: the rollup watermarks (None:
    nothing rolled); raw_from: the raw horizon (None: nothing dropped); dirty: the asked
    monitors' dirty (monitor, hour) pairs (any range: those that matter are picked here)."""
    lo = min(ceil_to(from_ts, HOUR), to_ts)
    hi = lo if hourly_until is None else max(lo, min(floor_to(to_ts, HOUR), hourly_until))
    dirty_from = lo if raw_from is None else max(lo, raw_from)
    dirty = sorted((h, m) for m, h in dirty if dirty_from <= h < hi)
    # The whole rolled days, as runs of clean days between the dirty ones.
    clean: list[tuple[datetime, datetime]] = []
    if daily_until is not None:
        day, end = ceil_to(lo, DAY), floor_to(min(hi, daily_until), DAY)
        for dirty_day in sorted({floor_to(h, DAY) for h, _ in dirty}):
            if day <= dirty_day < end:
                clean.append((day, dirty_day))
                day = dirty_day + DAY
        clean = [(a, b) for a, b in (*clean, (day, end)) if a < b]
    # Four-week blocks, then weeks, then days, each run split at the coarser blocks.
    four_weeks, weeks, days = [], [], []
    for run in clean:
        parts, block = _split(*run, FOUR_WEEKS, four_weekly_until)
        four_weeks += [block] if block else []
        for part in parts:
            rest, block = _split(*part, WEEK, weekly_until)
            weeks += [block] if block else []
            days += rest
    hours = [(a, b) for a, b in zip((lo, *(b for _, b in clean)), (*(a for a, _ in clean), hi), strict=True) if a < b]
    raw = []
    for start, end in ((from_ts, lo), (hi, to_ts)):
        start = start if raw_from is None else max(start, raw_from)
        if raw and raw[-1].end == start:  # nothing rolled in between: one scan
            raw[-1] = RawRange(raw[-1].start, end)
        elif start < end:
            raw.append(RawRange(start, end))
    by_hour: dict[datetime, list[int]] = defaultdict(list)
    for h, m in dirty:
        by_hour[h].append(m)
    raw += [RawRange(h, h + HOUR, tuple(ms)) for h, ms in by_hour.items()]
    return WindowPlan(lo, hi, _merge_touching(days), _merge_touching(weeks), four_weeks, hours,
                      [(m, h) for h, m in dirty], raw)


def _merge_touching(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted [start, end) ranges with touching ones joined."""
    out: list[tuple[datetime, datetime]] = []
    for a, b in ranges:
        if out and out[-1][1] == a:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out
