"""Aggregator cron job (rollups are built in the analytics work; see aggregator/README)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


async def aggregate(ctx: dict[str, Any]) -> int:
    """Roll finished buckets; returns buckets rolled."""
    return 0
