"""The immediate down-rule pass: down rules fire seconds after the deciding result is stored,
not at the next per-minute tick.

The writer announces every monitor with a down result when it commits them (ingest/wake.py,
PostgreSQL NOTIFY). This pass gathers the announced monitors for a moment (results of
several regions and flushes arrive together), then evaluates the down rules of just those
monitors at the current instant with the tick's own statements (evaluator/tick.py,
sql/queries/evaluator.sql), so both reach the same answers and the same compare-and-set
incident changes keep any number of evaluators to one incident and one notification.

Monitors with an open down incident are re-evaluated every few seconds, so recovery and a
pending incident's promotion follow as quickly. After every (re)connect of its listening
connection every down rule is evaluated once: announcements sent while nobody listened are
lost, and the per-minute tick remains the safety net for anything else."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from evaluator.tick import KindOutcome, evaluate_kind
from vigil.constants import DOWN_RESULTS_CHANNEL
from vigil.listen import listen, parse_ids
from vigil.queries import sql

log = logging.getLogger(__name__)

# Results of one slot from several regions, and of back-to-back flushes, arrive within a
# moment of each other; one pass over all of them costs about as much as a pass over one.
DEBOUNCE_SECONDS = 0.1
# A pass costs a floor of rule-target work whatever the number of monitors (55-75 ms at
# 100,000 rules, most of it finding the monitors in maintenance): when down results keep
# arriving (many monitors down for a while), passes start at most this often and take in
# everything announced meanwhile.
MIN_PASS_INTERVAL_SECONDS = 0.5
# Open down incidents are re-evaluated this often (recovery, pending -> firing).
RECHECK_SECONDS = 5.0
# A failed pass (database away, a deadlock with a parallel evaluator) is retried after this,
# doubling up to RETRY_MAX_SECONDS while it keeps failing.
RETRY_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0


class ImmediateDownPass:
    def __init__(self, pool: AsyncConnectionPool, dsn: str, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self.pool = pool
        self.dsn = dsn
        self.recheck_seconds = recheck_seconds
        self.passes = 0
        self.last: KindOutcome | None = None
        self._monitors: set[int] = set()
        self._every_rule = False
        self._wake = asyncio.Event()
        self._retry = RETRY_SECONDS

    def on_notify(self, channel: str, payload: str) -> None:
        try:
            ids = parse_ids(payload)
        except ValueError:
            log.warning("ignoring a malformed %s payload: %.80r", channel, payload)
            return
        self._monitors |= ids
        self._wake.set()

    def on_connect(self) -> None:
        self._every_rule = True
        self._wake.set()

    async def run(self) -> None:
        listener = asyncio.create_task(listen(self.dsn, [DOWN_RESULTS_CHANNEL], self.on_notify, self.on_connect),
                                       name="down-results-listener")
        next_recheck = time.monotonic() + self.recheck_seconds
        next_pass = 0.0
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), max(0.0, next_recheck - time.monotonic()))
                    await asyncio.sleep(max(DEBOUNCE_SECONDS, next_pass - time.monotonic()))
                except TimeoutError:
                    pass
                next_pass = time.monotonic() + MIN_PASS_INTERVAL_SECONDS
                self._wake.clear()
                monitors, self._monitors = self._monitors, set()
                every_rule, self._every_rule = self._every_rule, False
                if time.monotonic() >= next_recheck:
                    next_recheck = time.monotonic() + self.recheck_seconds
                    monitors |= await self._open_incident_monitors()
                if monitors or every_rule:
                    await self._evaluate(monitors, every_rule)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    async def _open_incident_monitors(self) -> set[int]:
        try:
            async with self.pool.connection() as conn:
                return {r[0] for r in await (await conn.execute(sql("open_down_monitors"))).fetchall()}
        except Exception:  # the next recheck asks again; announced monitors still go ahead
            log.exception("reading the monitors with open down incidents failed")
            return set()

    async def _evaluate(self, monitors: set[int], every_rule: bool) -> None:
        at = datetime.now(UTC)
        try:
            async with self.pool.connection() as conn:
                outcome = await evaluate_kind(conn, "down", at, None if every_rule else sorted(monitors))
        except Exception as exc:
            log.warning("immediate down pass over %s failed (%s: %s); retrying in %.1f s",
                        "every rule" if every_rule else f"{len(monitors)} monitor(s)",
                        type(exc).__name__, exc, self._retry)
            self._monitors |= monitors
            self._every_rule |= every_rule
            self._wake.set()
            await asyncio.sleep(self._retry)
            self._retry = min(self._retry * 2, RETRY_MAX_SECONDS)
            return
        self._retry = RETRY_SECONDS
        self.passes += 1
        self.last = outcome
        if outcome.transitions:
            log.info("immediate down pass at %s: %s, transitions=%s notifications=%d %.3fs",
                     at.isoformat(), "every rule" if every_rule else f"{len(monitors)} monitor(s)",
                     outcome.transitions, outcome.notifications, outcome.seconds)


async def run_immediate_down_pass(ctx: dict[str, Any]) -> None:
    """The evaluator service's background task (vigil/cronworker.py: background)."""
    await ImmediateDownPass(ctx["pool"], ctx["settings"].database_url).run()
