"""One evaluator tick: every rule kind in its own transaction, each set-based.

A kind whose statements fail (a bug, a timeout, a missing function) is rolled back and
logged; the other kinds still run, and the failed one is simply tried again next tick."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from vigil import logs, tracing
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
# A tick logs one line per announced transition, up to this many (an outage of thousands of
# monitors is summed up by the tick's own line).
TRANSITIONS_LOGGED = 1000


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


async def evaluate_kind(conn: AsyncConnection, kind: str, at: datetime, monitor_ids: list[int] | None = None,
                        job_id: str | None = None) -> KindOutcome:
    """Evaluate every enabled rule of `kind` at `at`, move incidents and write the outbox,
    all in one transaction; the notifier is woken when it commits outbox rows. With
    monitor_ids (down kind only: the immediate pass, evaluator/immediate.py), just those
    monitors. Incidents opened and notifications queued keep `job_id` (the tick's
    correlation id) and the current trace."""
    outcome = KindOutcome(kind)
    traceparent = tracing.recorded_traceparent()
    params = {"at": at, "kind": kind, "monitor_ids": monitor_ids, "correlation_id": job_id,
              "traceparent": traceparent, "trace_id": tracing.trace_id_of(traceparent)}
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
            await _log_transitions(conn)
    outcome.seconds = time.perf_counter() - started
    return outcome


async def _log_transitions(conn: AsyncConnection) -> None:
    """One line (and one span event) per incident the tick announced."""
    cur = await conn.execute(sql("transition_list"), {"limit": TRANSITIONS_LOGGED})
    span = tracing.current_span()
    for incident_id, event, rule_id, monitor_id in await cur.fetchall():
        log.info("incident %s %s (rule %s, monitor %s)", incident_id, event, rule_id, monitor_id,
                 extra={"incident_id": incident_id, "rule_id": rule_id, "monitor_id": monitor_id})
        span.add_event(f"incident.{event}", {"incident_id": incident_id, "rule_id": rule_id,
                                             "monitor_id": monitor_id})


def tick_id(at: datetime) -> str:
    """A correlation id for a tick run outside the queue (``--once``), shaped like arq's."""
    return f"evaluate:{at:%Y%m%dT%H%M}:{uuid.uuid4().hex[:8]}"


async def evaluate_minute(pool: AsyncConnectionPool, at: datetime | None = None,
                          kinds: tuple[str, ...] = RULE_KINDS, job_id: str | None = None) -> list[KindOutcome]:
    at = minute_of(at)
    job_id = job_id or tick_id(at)
    with logs.bind(job_id=job_id), tracing.span("evaluator.tick", minute=at.isoformat(), job_id=job_id):
        return [await _evaluate_one(pool, kind, at, job_id) for kind in kinds]


async def _evaluate_one(pool: AsyncConnectionPool, kind: str, at: datetime, job_id: str) -> KindOutcome:
    with tracing.span("evaluator.kind", kind=kind) as span:
        try:
            async with pool.connection() as conn:
                outcome = await evaluate_kind(conn, kind, at, job_id=job_id)
        except Exception as exc:  # one kind's failure must not stop the others
            log.exception("evaluating %s rules at %s failed; retried next tick", kind, at.isoformat())
            outcome = KindOutcome(kind, error=f"{type(exc).__name__}: {exc}")
            span.record_exception(exc)
        span.set_attribute("evaluated", outcome.evaluated)
    if outcome.evaluated or outcome.error:
        log.info("evaluator %s: kind=%s rows=%d transitions=%s notifications=%d %.3fs%s",
                 at.isoformat(), kind, outcome.evaluated, outcome.transitions,
                 outcome.notifications, outcome.seconds,
                 f" error={outcome.error}" if outcome.error else "")
    return outcome
