"""The window plan (aggregator/window_plan.py) as a table: which days, hours and raw ranges a
window is read from, given the watermarks, the raw horizon and the dirty hours."""

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.window_plan import RawRange, ceil_to, floor_to, plan_window

H, D = timedelta(hours=1), timedelta(days=1)
T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a midnight


def t(days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours, minutes=minutes)


CASES = {
    "unaligned, rolled": dict(
        window=(t(0, 5, 30), t(3, 2, 10)), state=(t(3, 1), t(3), None), dirty=[],
        days=[(t(1), t(3))], hours=[(t(0, 6), t(1)), (t(3), t(3, 1))],
        raw=[RawRange(t(0, 5, 30), t(0, 6)), RawRange(t(3, 1), t(3, 2, 10))]),
    "a dirty hour keeps its day out and is read from raw for its monitor": dict(
        window=(t(0), t(3)), state=(t(3), t(3), None), dirty=[(7, t(1, 4)), (9, t(5))],
        days=[(t(0), t(1)), (t(2), t(3))], hours=[(t(1), t(2))],
        raw=[RawRange(t(1, 4), t(1, 5), (7,))]),
    "nothing rolled: all raw": dict(
        window=(t(0, 0, 1), t(0, 3)), state=(None, None, None), dirty=[],
        days=[], hours=[], raw=[RawRange(t(0, 0, 1), t(0, 3))]),
    "raw horizon cuts the unaligned head and ignores older dirty marks": dict(
        window=(t(0, 0, 20), t(2)), state=(t(2), t(2), t(1)), dirty=[(7, t(0, 3))],
        days=[(t(1), t(2))], hours=[(t(0, 1), t(1))], raw=[]),
    "days rolled less far than hours": dict(
        window=(t(0), t(2, 6)), state=(t(2, 6), t(1), None), dirty=[],
        days=[(t(0), t(1))], hours=[(t(1), t(2, 6))], raw=[]),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_window_is_planned_from_days_hours_and_raw_ranges(case):
    plan = plan_window(*case["window"], *case["state"], case["dirty"])
    assert (plan.days, plan.hours, plan.raw) == (case["days"], case["hours"], case["raw"])


def test_every_instant_of_a_window_is_read_from_exactly_one_store():
    start, end = t(0, 7, 13), t(69, 4, 59)
    plan = plan_window(start, end, t(69, 2), t(68), None, [(1, t(4, 3))], t(63), t(49))
    assert plan.four_weeks and plan.weeks
    covered = sorted([*plan.four_weeks, *plan.weeks, *plan.days, *plan.hours,
                      *((r.start, r.end) for r in plan.raw if r.monitor_ids is None)])
    assert covered[0][0] == start and covered[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:], strict=False))


def test_buckets_start_at_utc_midnight_and_whole_hours():
    x = datetime(2026, 3, 2, 17, 45, 3, 7, tzinfo=UTC)
    assert floor_to(x, D) == T0 and ceil_to(x, H) == datetime(2026, 3, 2, 18, tzinfo=UTC)
    assert ceil_to(T0, D) == T0


def test_whole_rolled_blocks_of_clean_days_come_from_the_weekly_and_four_weekly_rollups():
    # T0 is a Monday; a four-week block (time_bucket('28 days')) starts 21 days later.
    start, end = t(2, 5), t(60, 3)
    plan = plan_window(start, end, t(60), t(60), None, [], t(56), t(49))
    assert plan.four_weeks == [(t(21), t(49))]
    assert plan.weeks == [(t(7), t(21)), (t(49), t(56))]
    assert plan.days == [(t(3), t(7)), (t(56), t(60))]
    assert plan.hours == [(t(2, 5), t(3))]
    # a dirty hour keeps its day's blocks out; their other days come from weeks and days
    plan = plan_window(start, end, t(60), t(60), None, [(4, t(30, 6))], t(56), t(49))
    assert plan.four_weeks == [] and plan.weeks == [(t(7), t(28)), (t(35), t(56))]
    assert plan.days == [(t(3), t(7)), (t(28), t(30)), (t(31), t(35)), (t(56), t(60))]
    assert (t(30), t(31)) in plan.hours and plan.raw[-1] == RawRange(t(30, 6), t(30, 7), (4,))
    # a block past its level's watermark is read as days
    plan = plan_window(start, end, t(60), t(60), None, [], None, None)
    assert plan.four_weeks == plan.weeks == [] and plan.days == [(t(3), t(60))]
