"""Waking the notifier when outbox rows are committed (PostgreSQL NOTIFY on OUTBOX_CHANNEL,
sent in the transaction that writes them: the evaluator's incident changes, the API's test
notifications), so a notification goes out within moments instead of at the next poll. The poll stays: it retries due rows and covers
anything written while the listening connection was away."""

from __future__ import annotations

import asyncio

from vigil.constants import OUTBOX_CHANNEL
from vigil.listen import listen


class OutboxWake:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._event = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        # A (re)connect wakes a pass too: rows may have been written while nobody listened.
        self._task = asyncio.create_task(listen(self.dsn, [OUTBOX_CHANNEL], self._on_notify, self._event.set),
                                         name="outbox-listener")

    def _on_notify(self, _channel: str, _payload: str) -> None:
        self._event.set()

    def clear(self) -> None:
        """Call before a delivery pass: a wake-up during the pass then starts the next one."""
        self._event.clear()

    async def sleep(self, stop: asyncio.Event, seconds: float) -> None:
        """Wait until woken, stopped, or `seconds` passed."""
        waits = [asyncio.ensure_future(self._event.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
