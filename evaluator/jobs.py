"""Evaluator cron job: one tick per minute (see evaluator/tick.py)."""

from __future__ import annotations

import time
from typing import Any

from evaluator.tick import KindOutcome, evaluate_minute
from vigil import metrics


async def evaluate(ctx: dict[str, Any]) -> int:
    """Evaluate every enabled rule for the current minute (or ctx["at"]); returns the number
    of (rule, monitor) pairs that were bad or had an open incident (the rest change nothing)."""
    started = time.perf_counter()
    outcomes = await evaluate_minute(ctx["pool"], ctx.get("at"), job_id=ctx.get("job_id"))
    metrics.EVALUATOR_TICK.observe(time.perf_counter() - started)
    metrics.EVALUATOR_LAST_TICK.set(time.time())
    record(outcomes)
    return sum(o.evaluated for o in outcomes)


def record(outcomes: list[KindOutcome]) -> None:
    for o in outcomes:
        if o.evaluated:
            metrics.RULES_EVALUATED.labels(o.kind).inc(o.evaluated)
        if o.error:
            metrics.EVALUATOR_ERRORS.labels(o.kind).inc()
        if fired := o.transitions.get("firing"):
            metrics.INCIDENTS_OPENED.labels(o.kind).inc(fired)
        if resolved := o.transitions.get("resolved"):
            metrics.INCIDENTS_RESOLVED.labels(o.kind).inc(resolved)
