"""Retries inside a slot: exponential backoff with jitter, attempts recorded, the slot's
time budget respected, and failures no retry can change not retried."""
# ruff: noqa: F811 (pytest fixtures imported from tests/checks_fixtures.py)

from __future__ import annotations

import random
import time

import pytest

from ingest.checks.base import MonitorSpec
from ingest.runner import MAX_BACKOFF_S, backoff_s, run_check
from tests.checks_fixtures import ca, check_ctx, spec, web_server  # noqa: F401 (fixtures)
from vigil.constants import ErrorKind

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(("attempt", "base", "low", "high"), [
    (1, 0.5, 0.25, 0.5),
    (2, 0.5, 0.5, 1.0),
    (3, 0.5, 1.0, 2.0),
    (5, 1.0, 8.0, 16.0),
    (12, 1.0, MAX_BACKOFF_S / 2, MAX_BACKOFF_S),
])
def test_backoff_doubles_with_jitter_in_the_upper_half(attempt, base, low, high):
    rng = random.Random(7)
    waits = [backoff_s(attempt, base, rng) for _ in range(200)]
    assert all(low <= w <= high for w in waits)
    assert max(waits) - min(waits) > (high - low) / 2  # really jittered, not a constant


async def test_flaky_target_is_up_on_the_third_attempt(web_server, check_ctx):
    result = await run_check(spec(f"{web_server}/flaky/2", attempts=3), check_ctx)
    assert result.up and result.attempts == 3 and result.status_code == 200


async def test_down_target_is_recorded_down_after_every_attempt(web_server, check_ctx):
    start = time.monotonic()
    result = await run_check(spec(f"{web_server}/status/503", attempts=3), check_ctx)
    elapsed = time.monotonic() - start
    assert not result.up and result.attempts == 3 and result.error_kind == ErrorKind.http_status
    # two waits: at least base/2 + base (0.05 s base in the test context)
    assert elapsed >= 0.025 + 0.05


async def test_one_attempt_means_no_retry(web_server, check_ctx):
    result = await run_check(spec(f"{web_server}/flaky/1", attempts=1), check_ctx)
    assert not result.up and result.attempts == 1


async def test_blocked_target_is_not_retried(web_server, check_ctx):
    result = await run_check(spec(f"{web_server}/to-metadata", attempts=5), check_ctx)
    assert result.error_kind == ErrorKind.blocked_target and result.attempts == 1


async def test_retries_stop_when_the_slot_budget_is_spent(web_server, check_ctx):
    # interval 1 s, timeout 1 s: after the first failure, a wait plus another full timeout
    # would end after the slot, so the runner records down at once.
    s = MonitorSpec(id=1, kind="http", target=f"{web_server}/status/503", timeout_ms=1000,
                    attempts=5, interval_s=1)
    result = await run_check(s, check_ctx)
    assert not result.up and result.attempts == 1
    assert result.detail["retries_stopped"] == "slot time budget spent"


async def test_invalid_stored_expectations_are_an_internal_failure_not_a_crash(check_ctx):
    result = await run_check(spec("http://127.0.0.1:1/", nonsense=True), check_ctx)
    assert result.error_kind == ErrorKind.internal and "nonsense" in result.error
