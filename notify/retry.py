"""What happens after a delivery attempt: pure decisions, table-tested."""

from __future__ import annotations

import random
from collections.abc import Callable

# Statuses a receiver uses for "try again later"; every other 4xx means the request itself
# is wrong (bad URL, revoked hook) and repeating it cannot succeed.
RETRYABLE_STATUS = frozenset({408, 425, 429})


def is_permanent_status(status: int) -> bool:
    return 400 <= status < 500 and status not in RETRYABLE_STATUS


def backoff_seconds(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Wait before retry number ``attempt`` (1 = after the first failure): exponential, capped,
    with 'equal jitter' (50-100 % of the step) so receivers recovering from an outage are not
    hit by every sender at the same instant."""
    step = min(cap, base * 2 ** min(attempt - 1, 30))
    return step * (0.5 + 0.5 * rand())


def next_status(ok: bool, permanent: bool, attempts: int, max_attempts: int) -> str:
    if ok:
        return "sent"
    if permanent or attempts >= max_attempts:
        return "dead"
    return "pending"
