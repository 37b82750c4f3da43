"""One evaluator tick: every rule kind in its own transaction, each set-based.

A kind whose statements fail (a bug, a timeout, a missing function) is rolled back and
logged; the other kinds still run, and the failed one is simply tried again next tick."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from vigil.constants import OUTBOX_CHANNEL, RULE_KINDS
from vigil.listen import send
from vigil.queries import sql

log = logging.getLogger(__name__)

# Order matters: resolve and promote before the streak update (which marks a row evaluated
# for this minute), reminders before opening (a new incident needs no reminder).
TRANSITIONS = ("incidents_resolve", "incidents_promote", "incidents_track", "incidents_remind",
               "incidents_open")
# One kind may not hold the tick (and its locks) longer than this.
KIND_STATEMENT_TIMEOUT = "50s"


@dataclass
class KindOutcome:
    kind: str
    evaluated: int = 0  # (rule, monitor) pairs bad or with an open incident
    transitions: dict[str, int] = field(default_factory=dict)
    notifications: int = 0
    seconds: float = 0.0
    statement_s: dict[str, float] = field(default_factory=dict)  # where the time went
    error: str | None = None


def minute_of(at: datetime | None) -> datetime:
    """The evaluated minute: `at` (UTC if naive) floored to the minute, default now."""
    at = at or datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.replace(second=0, microsecond=0)


async def evaluate_kind(conn: AsyncConnection, kind: str, at: datetime,
                        monitor_ids: list[int] | None = None) -> KindOutcome:
    """Evaluate every enabled rule of `kind` at `at`, move incidents and write the outbox,
    all in one transaction; the notifier is woken when it commits outbox rows. With
    monitor_ids (down kind only: the immediate pass, evaluator/immediate.py), just those monitors."""
    outcome = KindOutcome(kind)
    params = {"at": at, "kind": kind, "monitor_ids": monitor_ids}
    started = time.perf_counter()

    async def run(name: str, query: str | None = None):
        t = time.perf_counter()
        cur = await conn.execute(query or sql(name), params)
        outcome.statement_s[name] = round(time.perf_counter() - t, 4)
        return cur

    async with conn.transaction():
        await conn.execute(f"SET LOCAL statement_timeout = '{KIND_STATEMENT_TIMEOUT}'")
        # The window functions' cost estimates are large enough to trigger JIT, whose
        # compilation (seconds) dwarfs these millisecond statements.
        await conn.execute("SET LOCAL jit = off")
        # Room for the tick's hashes and sorts (100k pairs) without spilling to disk.
        await conn.execute("SET LOCAL work_mem = '64MB'")
        await conn.execute(sql("rule_eval_tables"))
        outcome.evaluated = (await run(f"eval_{kind}")).rowcount
        closed = (await run("incidents_close_unwatched")).rowcount if monitor_ids is None else 0
        if outcome.evaluated:
            await run("analyze", "ANALYZE rule_eval")
            for name in TRANSITIONS:
                await run(name)
        if outcome.evaluated or closed:
            cur = await conn.execute(sql("transition_counts"))
            outcome.transitions = {event: n for event, n in await cur.fetchall()}
            outcome.notifications = (await run("outbox_enqueue")).rowcount
            if outcome.notifications:
                await send(conn, OUTBOX_CHANNEL)
    outcome.seconds = time.perf_counter() - started
    return outcome


async def evaluate_minute(pool: AsyncConnectionPool, at: datetime | None = None,
                          kinds: tuple[str, ...] = RULE_KINDS) -> list[KindOutcome]:
    at = minute_of(at)
    outcomes = []
    for kind in kinds:
        try:
            async with pool.connection() as conn:
                outcome = await evaluate_kind(conn, kind, at)
        except Exception as exc:  # one kind's failure must not stop the others
            log.exception("evaluating %s rules at %s failed; retried next tick", kind, at.isoformat())
            outcome = KindOutcome(kind, error=f"{type(exc).__name__}: {exc}")
        if outcome.evaluated or outcome.error:
            log.info("evaluator %s: kind=%s rows=%d transitions=%s notifications=%d %.3fs%s",
                     at.isoformat(), kind, outcome.evaluated, outcome.transitions,
                     outcome.notifications, outcome.seconds,
                     f" error={outcome.error}" if outcome.error else "")
        outcomes.append(outcome)
    return outcomes
