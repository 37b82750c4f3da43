"""Slot maths, pure. A monitor with interval I and phase p is due at every whole second
t with (t - p) mod I == 0. Phases spread monitors of one interval evenly over it, so a
thousand 60-second monitors do not all fire at :00."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

# Knuth's multiplicative hash: consecutive ids land far apart in [0, interval).
_GOLDEN = 2654435761


def phase_for(monitor_id: int, interval_s: int) -> int:
    return ((monitor_id * _GOLDEN) & 0xFFFFFFFF) % interval_s


def is_due(t: int, interval_s: int, phase: int) -> bool:
    return (t - phase) % interval_s == 0


def slots_between(start: int, end: int, interval_s: int, phase: int) -> list[int]:
    """Slots t with start <= t < end."""
    first = start + ((phase - start) % interval_s)
    return list(range(first, end, interval_s))


def previous_slot(t: int, interval_s: int, phase: int) -> int:
    """The latest slot at or before t."""
    return t - ((t - phase) % interval_s)


def job_id(region: str, slot: int, batch_no: int | str) -> str:
    """Same (region, slot, batch) -> same id, so two schedulers enqueue a batch once. A batch
    whose number is not known (a dead letter without its job id) is "?"."""
    return f"chk:{region}:{slot}:{batch_no}"


def batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@dataclass
class SlotTable(Generic[T]):
    """Monitors indexed by (interval, phase) for O(#intervals) lookup of who is due at t."""

    by_interval: dict[int, dict[int, list[T]]]

    @classmethod
    def build(cls, entries: Iterable[tuple[int, int, T]]) -> SlotTable[T]:
        """entries: (monitor_id, interval_s, item); items come out sorted by monitor id."""
        table: dict[int, dict[int, list[tuple[int, T]]]] = defaultdict(lambda: defaultdict(list))
        for monitor_id, interval_s, item in entries:
            table[interval_s][phase_for(monitor_id, interval_s)].append((monitor_id, item))
        return cls({iv: {ph: [item for _, item in sorted(lst, key=lambda e: e[0])]
                         for ph, lst in phases.items()} for iv, phases in table.items()})

    def due(self, t: int) -> list[T]:
        out: list[T] = []
        for interval_s, phases in self.by_interval.items():
            out.extend(phases.get(t % interval_s, ()))
        return out
