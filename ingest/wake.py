"""Which stored results wake the evaluator: every monitor with a down result in the batch.

Only a down result can make a down rule's slot decided down (its regions down reach the
quorum), so these monitors are the ones whose down rules may fire now; the evaluator
evaluates just them within a second (evaluator/immediate.py) instead of waiting for its
per-minute tick. Missed-slot markers are not down results and wake nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg

from vigil.constants import DOWN_RESULTS_CHANNEL, ErrorKind
from vigil.listen import id_payloads, send
from vigil.results import COLUMNS

_MONITOR, _UP, _ERROR = (COLUMNS.index(c) for c in ("monitor_id", "up", "error_kind"))


def down_monitors(rows: Iterable[Sequence]) -> set[int]:
    return {row[_MONITOR] for row in rows if not row[_UP] and row[_ERROR] != ErrorKind.missed}


async def announce_down(conn: psycopg.AsyncConnection, rows: Iterable[Sequence]) -> None:
    """Notify the evaluator of the batch's down monitors, in the transaction storing them."""
    await send(conn, DOWN_RESULTS_CHANNEL, id_payloads(down_monitors(rows)))
