"""Runs one monitor's check: picks the kind's function, owns the timeout, the timing and
the retries inside a slot. Check functions only say what happened."""

from __future__ import annotations

import asyncio
import logging
import time

from ingest.checks import CHECKS
from ingest.checks.base import CheckContext, CheckResult, MonitorSpec
from vigil.constants import ErrorKind

log = logging.getLogger(__name__)

# Grace beyond the monitor's own timeout before the runner cancels a check that ignores it.
TIMEOUT_GRACE_S = 1.0


async def run_check(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    check = CHECKS.get(spec.kind)
    if check is None:
        return CheckResult.failure(ErrorKind.internal, f"unknown check kind {spec.kind!r}")
    result = CheckResult.failure(ErrorKind.internal, "not run")
    for attempt in range(1, max(1, spec.attempts) + 1):
        start = time.perf_counter()
        try:
            async with asyncio.timeout(spec.timeout_ms / 1000 + TIMEOUT_GRACE_S):
                result = await check(spec, ctx)
        except TimeoutError:
            result = CheckResult.failure(ErrorKind.read_timeout, f"no answer within {spec.timeout_ms} ms")
        except Exception as exc:  # a bug in a check must not take the batch down
            log.exception("check %s of monitor %s crashed", spec.kind, spec.id)
            result = CheckResult.failure(ErrorKind.internal, f"{type(exc).__name__}: {exc}")
        if not result.timings.total_us:
            result.timings.total_us = int((time.perf_counter() - start) * 1_000_000)
        result.attempts = attempt
        if result.up:
            break
    return result
