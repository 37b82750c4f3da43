"""Evaluator cron job: one tick per minute (see evaluator/tick.py)."""

from __future__ import annotations

from typing import Any

from evaluator.tick import evaluate_minute


async def evaluate(ctx: dict[str, Any]) -> int:
    """Evaluate every enabled rule for the current minute (or ctx["at"]); returns the number
    of (rule, monitor) pairs that were bad or had an open incident (the rest change nothing)."""
    outcomes = await evaluate_minute(ctx["pool"], ctx.get("at"), job_id=ctx.get("job_id"))
    return sum(o.evaluated for o in outcomes)
