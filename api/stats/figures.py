"""Turn the window statistics (aggregator.windows: counts and a latency histogram
per monitor, region or bucket) into the API's figures: sums over a group, uptime, the
slot-weighted error budget and latency percentiles in milliseconds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aggregator import histogram
from aggregator.histogram import ms
from aggregator.windows import derive

SLOT_COUNTS = ("slots", "up_slots", "down_slots", "missed_slots")
COUNTS = (*SLOT_COUNTS, "checks", "latency_sum_us")
EMPTY = {**dict.fromkeys(COUNTS, 0), "excluded_slots": 0, "latency_min_us": None, "latency_max_us": None,
         "hist": histogram.EMPTY}


def exclude(rows: list[dict[str, Any]], excluded: dict[int, dict[str, Any]],
            key: str = "monitor_id") -> list[dict[str, Any]]:
    """Per-monitor (or per-region: key) statistics less the slots inside maintenance windows
    (from vigil_window_excluded), which are counted in excluded_slots instead. Latency and
    checks keep every result."""
    out = []
    for r in rows:
        x = excluded.get(r[key])
        counts = {c: r[c] - x[c] for c in SLOT_COUNTS} if x else {}
        out.append({**r, **counts, "excluded_slots": x["slots"] if x else 0})
    return out


def combine(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Counts summed, latency extremes and histograms merged, over any pieces of a window."""
    parts = list(parts)
    if not parts:
        return dict(EMPTY)
    mins = [p["latency_min_us"] for p in parts if p["latency_min_us"] is not None]
    maxs = [p["latency_max_us"] for p in parts if p["latency_max_us"] is not None]
    return {**{c: sum(p[c] for p in parts) for c in COUNTS},
            "excluded_slots": sum(p.get("excluded_slots", 0) for p in parts),
            "latency_min_us": min(mins) if mins else None, "latency_max_us": max(maxs) if maxs else None,
            "hist": histogram.merge(p["hist"] for p in parts) if len(parts) > 1 else parts[0]["hist"]}


def figures(stats: dict[str, Any], slo_targets: dict[int, float] | None = None,
            per_monitor: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """API figures of combined stats. With SLO targets, the error budget: each monitor may
    spend (100 - target) percent of its decided (up + down) slots; remaining = 1 - spent /
    allowed, over the monitors in per_monitor (or the one monitor of slo_targets)."""
    s = derive(dict(stats))
    out = {k: s[k] for k in ("slots", "up_slots", "down_slots", "missed_slots", "checks")}
    out["excluded_slots"] = stats.get("excluded_slots", 0)
    out["uptime_pct"] = None if s["uptime"] is None else 100 * s["uptime"]
    out["latency_ms"] = {"p50": ms(s["latency_p50_us"]), "p90": ms(s["latency_p90_us"]),
                         "p95": ms(s["latency_p95_us"]), "p99": ms(s["latency_p99_us"]),
                         "p99_9": ms(s["latency_p999_us"]), "min": ms(s["latency_min_us"]),
                         "max": ms(s["latency_max_us"]), "mean": ms(s["latency_mean_us"])}
    if slo_targets is not None:
        monitors = per_monitor if per_monitor is not None else [{**stats, "monitor_id": next(iter(slo_targets))}]
        allowed = sum((m["up_slots"] + m["down_slots"]) * (100 - slo_targets[m["monitor_id"]]) / 100
                      for m in monitors)
        decided = out["up_slots"] + out["down_slots"]
        out["slo_target"] = 100 - 100 * allowed / decided if decided else (
            next(iter(slo_targets.values())) if len(slo_targets) == 1 else None)
        out["error_budget_remaining_pct"] = 100 * (1 - out["down_slots"] / allowed) if allowed else None
    return out
