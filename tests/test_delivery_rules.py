import pytest

from notify.retry import backoff_seconds, is_permanent_status, next_status


@pytest.mark.parametrize(("status", "permanent"), [
    (400, True), (401, True), (403, True), (404, True), (410, True), (422, True),
    (408, False), (425, False), (429, False), (500, False), (502, False), (503, False), (504, False),
])
def test_which_statuses_are_permanent(status, permanent):
    assert is_permanent_status(status) is permanent


@pytest.mark.parametrize(("attempt", "low", "high"), [
    (1, 15, 30), (2, 30, 60), (3, 60, 120), (6, 480, 960), (8, 1800, 3600), (40, 1800, 3600),
])
def test_backoff_doubles_with_jitter_and_is_capped(attempt, low, high):
    assert backoff_seconds(attempt, 30, 3600, rand=lambda: 0.0) == low
    assert backoff_seconds(attempt, 30, 3600, rand=lambda: 1.0) == high
    assert low <= backoff_seconds(attempt, 30, 3600) <= high


@pytest.mark.parametrize(("ok", "permanent", "attempts", "expected"), [
    (True, False, 1, "sent"), (True, False, 8, "sent"),
    (False, True, 1, "dead"), (False, False, 1, "pending"), (False, False, 7, "pending"),
    (False, False, 8, "dead"),
])
def test_next_status_after_an_attempt(ok, permanent, attempts, expected):
    assert next_status(ok, permanent, attempts, max_attempts=8) == expected
