import pytest

from ingest.slots import SlotTable, batches, is_due, job_id, phase_for, previous_slot, slots_between


@pytest.mark.parametrize(("t", "interval", "phase", "due"), [
    (0, 60, 0, True), (60, 60, 0, True), (59, 60, 0, False), (61, 60, 1, True),
    (1_700_000_017, 60, 17 + 1_700_000_000 % 60 * 0, (1_700_000_017 - 17) % 60 == 0),
    (120, 30, 0, True), (135, 30, 15, True), (134, 30, 15, False), (10, 10, 0, True),
])
def test_is_due(t, interval, phase, due):
    assert is_due(t, interval, phase) is due


@pytest.mark.parametrize(("start", "end", "interval", "phase", "expected"), [
    (0, 180, 60, 0, [0, 60, 120]),
    (1, 180, 60, 0, [60, 120]),
    (0, 180, 60, 59, [59, 119, 179]),
    (100, 100, 60, 40, []),
    (100, 101, 60, 40, [100]),
    (95, 130, 10, 3, [103, 113, 123]),
])
def test_slots_between(start, end, interval, phase, expected):
    assert slots_between(start, end, interval, phase) == expected


@pytest.mark.parametrize(("t", "interval", "phase", "expected"), [
    (100, 60, 40, 100), (99, 60, 40, 40), (159, 60, 40, 100), (0, 60, 0, 0), (5, 10, 7, -3),
])
def test_previous_slot(t, interval, phase, expected):
    assert previous_slot(t, interval, phase) == expected


def test_phase_is_deterministic_and_in_range():
    for mid in range(1, 2000):
        for interval in (10, 30, 60, 300, 3600):
            p = phase_for(mid, interval)
            assert 0 <= p < interval
            assert p == phase_for(mid, interval)


def test_phases_spread_monitors_evenly_over_the_interval():
    counts = [0] * 60
    for mid in range(1, 6001):
        counts[phase_for(mid, 60)] += 1
    assert max(counts) <= 2 * min(counts)  # 100 per second on average, never bunched


def test_slot_table_returns_each_monitor_exactly_once_per_interval():
    entries = [(mid, iv, mid) for mid, iv in [(1, 60), (2, 60), (3, 30), (4, 10), (5, 3600)]]
    table = SlotTable.build(entries)
    seen: dict[int, list[int]] = {}
    for t in range(3600):
        for mid in table.due(t):
            seen.setdefault(mid, []).append(t)
    assert {m: len(ts) for m, ts in seen.items()} == {1: 60, 2: 60, 3: 120, 4: 360, 5: 1}
    for t in range(3600):
        assert table.due(t) == sorted(table.due(t))


def test_job_id_depends_only_on_region_slot_and_batch():
    assert job_id("eu", 120, 0) == job_id("eu", 120, 0)
    assert len({job_id("eu", 120, 0), job_id("us", 120, 0), job_id("eu", 121, 0), job_id("eu", 120, 1)}) == 4


def test_batches_split_in_order():
    assert batches(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert batches([], 3) == []
