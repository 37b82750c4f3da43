"""Runs one monitor's check: picks the kind, validates its options once, owns the
timeout, the timing and the retries inside a slot. Check functions only say what
happened."""

from __future__ import annotations

import asyncio
import logging
import random
import time

from pydantic import ValidationError

from ingest.checks import KINDS
from ingest.checks.base import CheckContext, CheckResult, MonitorSpec, Options
from vigil.constants import ErrorKind

log = logging.getLogger(__name__)

# Grace beyond the monitor's own timeout before the runner cancels a check that ignores it.
TIMEOUT_GRACE_S = 1.0
# Longest wait between two attempts, whatever the backoff says.
MAX_BACKOFF_S = 30.0
# Failures that another attempt cannot change: not retried.
FINAL_KINDS = frozenset({ErrorKind.blocked_target, ErrorKind.heartbeat_missed, ErrorKind.cert_expiring,
                         ErrorKind.internal, ErrorKind.not_permitted})


def backoff_s(attempt: int, base_s: float, rng: random.Random | None = None) -> float:
    """Wait after failed attempt ``attempt`` (1-based): base * 2^(attempt-1), of which the
    upper half is random ("equal jitter") so monitors failing together do not retry in step."""
    ceiling = min(MAX_BACKOFF_S, base_s * 2 ** (attempt - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def slot_budget_s(spec: MonitorSpec) -> float:
    """Time all attempts of one slot may take: the interval, so a slot's result is in
    before the next slot starts; without a known interval, attempts x timeout + waits."""
    if spec.interval_s > 0:
        return float(spec.interval_s)
    return float("inf")


async def _attempt(spec: MonitorSpec, options: Options, ctx: CheckContext) -> CheckResult:
    check = KINDS[spec.kind].check
    start = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout_ms / 1000 + TIMEOUT_GRACE_S):
            result = await check(spec, options, ctx)
    except TimeoutError:
        result = CheckResult.failure(ErrorKind.read_timeout, f"no answer within {spec.timeout_ms} ms")
    except Exception as exc:  # a bug in a check must not take the batch down
        log.exception("check %s of monitor %s crashed", spec.kind, spec.id)
        result = CheckResult.failure(ErrorKind.internal, f"{type(exc).__name__}: {exc}")
    if not result.timings.total_us:
        result.timings.total_us = int((time.perf_counter() - start) * 1_000_000)
    return result


async def run_check(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    kind = KINDS.get(spec.kind)
    if kind is None:
        return CheckResult.failure(ErrorKind.internal, f"unknown check kind {spec.kind!r}")
    try:
        options = kind.options.model_validate(spec.expectations)
    except ValidationError as exc:
        return CheckResult.failure(ErrorKind.internal, f"invalid expectations for a {spec.kind} monitor: {exc}")
    deadline = time.monotonic() + slot_budget_s(spec)
    attempts = max(1, spec.attempts)
    attempt = 1
    while True:
        result = await _attempt(spec, options, ctx)
        result.attempts = attempt
        if result.up or result.error_kind in FINAL_KINDS or attempt >= attempts:
            return result
        wait = backoff_s(attempt, ctx.retry_base_s)
        if time.monotonic() + wait + spec.timeout_ms / 1000 > deadline:
            result.detail["retries_stopped"] = "slot time budget spent"
            return result
        await asyncio.sleep(wait)
        attempt += 1
