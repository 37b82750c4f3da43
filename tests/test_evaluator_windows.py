"""Window rules read through the window functions (vigil_window_stats): latency, uptime
and the SRE workbook's multiwindow multi-burn-rate alert, whose detection times are
predicted by the workbook's formula  t = factor * (1 - SLO) * long_window / error_rate."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tests.alerts_fixtures import (
    MINUTE,
    T0,
    incidents,
    make_monitor,
    make_rule,
    minutes,
    tick,
    write_results,
)


def _first_firing(db) -> dict:
    """rule id -> the minute its incident fired."""
    return {i["rule_id"]: i["fired_at"] for i in incidents(db) if i["fired_at"] is not None}


@pytest.mark.timeout(90)
async def test_burn_rate_pairs_fire_when_the_workbook_formula_predicts(db, account, pool):
    acc = account[0]
    slo = 99.0
    mid = make_monitor(db, acc, regions=("eu",), slo_target=slo)
    pairs = [(3600, 300, 14.4), (21600, 1800, 6.0), (259200, 21600, 1.0)]
    rules = {make_rule(db, acc, "slo_burn_rate", {"windows": [{"long_s": lw, "short_s": sw, "factor": f}]}):
             (lw, sw, f) for lw, sw, f in pairs}
    write_results(db, mid, "eu", minutes(T0 - timedelta(days=3), 3 * 1440), up=True)
    write_results(db, mid, "eu", minutes(T0, 60), up=False)  # a full outage: error rate 1.0
    # a full outage only raises the burn rates, so ticks around each prediction suffice
    for i in (6, 7, 8, 9, 10, 20, 21, 22, 23, 42, 43, 44, 45):
        await tick(pool, T0 + i * MINUTE, ("slo_burn_rate",))
    fired = _first_firing(db)
    for rule, (long_s, _, factor) in rules.items():
        predicted = T0 + timedelta(seconds=factor * (1 - slo / 100) * long_s / 1.0)
        assert rule in fired, f"pair {rules[rule]} never fired"
        assert abs(fired[rule] - predicted) <= MINUTE, (rules[rule], fired[rule], predicted)
    # 14.4x/1h: 8.64 min; 6x/6h: 21.6 min; 1x/3d: 43.2 min
    assert sorted(fired.values()) == [T0 + 9 * MINUTE, T0 + 22 * MINUTE, T0 + 44 * MINUTE]


@pytest.mark.timeout(60)
async def test_burn_rate_pair_needs_both_windows_and_resolves_when_the_short_one_recovers(db, account, pool):
    acc = account[0]
    mid = make_monitor(db, acc, regions=("eu",), slo_target=99.0)
    rule = make_rule(db, acc, "slo_burn_rate", {"windows": [{"long_s": 3600, "short_s": 300, "factor": 14.4}]})
    write_results(db, mid, "eu", minutes(T0 - 120 * MINUTE, 120), up=True)
    write_results(db, mid, "eu", minutes(T0, 10), up=False)
    write_results(db, mid, "eu", minutes(T0 + 10 * MINUTE, 30), up=True)
    states = {}
    for i in range(0, 30):
        await tick(pool, T0 + i * MINUTE, ("slo_burn_rate",))
        states[i] = incidents(db)[0]["state"] if incidents(db) else None
    assert states[8] is None and states[9] == "firing"
    # at T0+15 the hour still burns 10/60 = 16.7 % > 14.4 %, but the last 5 minutes are clean
    assert states[14] == "firing" and states[15] == "resolved"
    (inc,) = incidents(db)
    assert inc["rule_id"] == rule
    assert inc["reason"]["windows"][0]["long_burn"] == pytest.approx(10 / 60 / 0.01, rel=1e-3)


@pytest.mark.timeout(60)
async def test_latency_percentile_over_the_window_above_threshold_fires(db, account, pool):
    acc = account[0]
    mid = make_monitor(db, acc, regions=("eu",))
    make_rule(db, acc, "latency", {"percentile": 50, "window_s": 300, "threshold_ms": 500, "min_checks": 3},
              monitor_id=mid)
    write_results(db, mid, "eu", minutes(T0 - 30 * MINUTE, 30), up=True, latency_ms=50)
    write_results(db, mid, "eu", minutes(T0, 10), up=True, latency_ms=900)
    # down results are not a latency of the service: they must not count
    write_results(db, mid, "eu", minutes(T0 - 5 * MINUTE, 2), up=False, latency_ms=10_000)
    await tick(pool, T0 + 2 * MINUTE, ("latency",))
    assert incidents(db) == []  # window: 50, 50, 50, 900, 900 (two down results ignored)
    await tick(pool, T0 + 3 * MINUTE, ("latency",))
    (inc,) = incidents(db)
    assert inc["state"] == "firing" and inc["reason"]["value_ms"] == pytest.approx(900, rel=0.02)


@pytest.mark.timeout(60)
async def test_uptime_over_the_window_below_target_fires(db, account, pool):
    acc = account[0]
    good, bad = make_monitor(db, acc, "good", regions=("eu",)), make_monitor(db, acc, "bad", regions=("eu",))
    make_rule(db, acc, "uptime", {"window_s": 3600, "target_pct": 99.0, "min_slots": 1})
    for mid in (good, bad):
        write_results(db, mid, "eu", minutes(T0 - 60 * MINUTE, 60), up=True)
    write_results(db, bad, "eu", [T0 - 30 * MINUTE], up=False)  # 59/60 = 98.3 %
    await tick(pool, T0, ("uptime",))
    (inc,) = incidents(db)
    assert inc["monitor_id"] == bad
    assert inc["reason"]["uptime_pct"] == pytest.approx(100 * 59 / 60, abs=1e-3)
    assert math.isclose(inc["reason"]["target_pct"], 99.0)
