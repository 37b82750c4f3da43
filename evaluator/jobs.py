"""Evaluator cron job (rules are built in the alerting work)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


async def evaluate(ctx: dict[str, Any]) -> int:
    """Evaluate every enabled rule for the current minute; returns rules evaluated."""
    return 0
