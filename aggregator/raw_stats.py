"""Window statistics of raw check results, with numpy: what vigil_raw_stats computes in SQL
(sql/functions/windows.sql) for the parts of a window that are not rolled up, under the same
rules (vigil_result_down, vigil_slot_status: tests/test_slot_rule.py holds every reader to
them), as one piece per monitor (region_id 0, slots judged under the monitor's region quorum)
or per (monitor, region). Rows come as aggregator.history.Columns (time: any integer that is
equal for equal slot times). Latency and the histogram cover up results only; checks are the
results that are not missed markers."""

from __future__ import annotations

import numpy as np

from aggregator import histogram
from aggregator.history import Columns
from vigil.constants import ErrorKind

MISSED = int(ErrorKind.missed)


def _starts(*keys: np.ndarray) -> np.ndarray:
    """Indexes where a run of equal keys begins, in arrays sorted by those keys."""
    change = np.zeros(len(keys[0]), dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(change)


def raw_stats(rows: Columns, quorum: dict[int, int], per_region: bool) -> list[tuple]:
    """Pieces (monitor_id, region_id, slots, up_slots, down_slots, missed_slots, checks,
    latency_min_us, latency_max_us, latency_sum_us, hist), sorted by key. quorum: each
    monitor's region_quorum (a monitor without one counts with 1)."""
    if len(rows) == 0:
        return []
    up = rows.up.astype(bool)
    missed = ~up & (rows.error_kind == MISSED)
    down = ~up & ~missed
    mon = rows.monitor_id.astype(np.int64)
    region = rows.region_id.astype(np.int64) if per_region else np.zeros(len(rows), dtype=np.int64)
    order = np.lexsort((rows.time, region, mon))
    mon, region, up, down, missed = mon[order], region[order], up[order], down[order], missed[order]
    t, lat = rows.time[order], rows.latency_us[order].astype(np.int64)
    groups = _starts(mon, region)
    n_rows = np.diff(np.append(groups, len(mon)))
    if per_region:
        slots = n_rows
        ups, downs, misses = (np.add.reduceat(x.astype(np.int64), groups) for x in (up, down, missed))
    else:
        # A slot is (monitor, time): judged once under the quorum from its regions' results.
        s = _starts(mon, t)
        n_up, n_down = np.add.reduceat(up.astype(np.int64), s), np.add.reduceat(down.astype(np.int64), s)
        k = np.array([quorum.get(int(m), 1) for m in mon[s]], dtype=np.int64)
        is_down = n_down >= k
        is_missed = ~is_down & (n_up + n_down < k)
        slot_group = np.searchsorted(groups, s, side="right") - 1
        per = len(groups)
        slots = np.bincount(slot_group, minlength=per)
        downs = np.bincount(slot_group, weights=is_down, minlength=per).astype(np.int64)
        misses = np.bincount(slot_group, weights=is_missed, minlength=per).astype(np.int64)
        ups = slots - downs - misses
    checks = n_rows - np.add.reduceat(missed.astype(np.int64), groups)
    out = []
    bounds = np.append(groups, len(mon))
    for g, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        fast = lat[a:b][up[a:b]]
        out.append((int(mon[a]), int(region[a]), int(slots[g]), int(ups[g]), int(downs[g]), int(misses[g]),
                    int(checks[g]), int(fast.min()) if len(fast) else None, int(fast.max()) if len(fast) else None,
                    int(fast.sum()), histogram.record(fast)))
    return out
