"""`vigil evaluator --once --at T` evaluates that minute and exits; a bad --at is named."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.alerts_fixtures import MINUTE, T0, incidents, make_monitor, make_rule, minutes, write_results
from tests.services import service_env


@pytest.mark.timeout(60)
def test_once_at_a_given_minute_fires_and_a_rerun_adds_nothing(db, account, settings):
    mid = make_monitor(db, account[0], regions=("eu",))
    make_rule(db, account[0], "down", {"failures": 2}, monitor_id=mid)
    write_results(db, mid, "eu", minutes(T0, 5), up=False)
    cmd = [sys.executable, "-m", "vigil", "evaluator", "--once", "--at", (T0 + 2 * MINUTE).isoformat()]
    for _ in range(2):
        done = subprocess.run(cmd, env=service_env(settings), capture_output=True, text=True, timeout=50)
        assert done.returncode == 0, done.stderr
        assert "1 (rule, monitor) pair(s) bad" in done.stdout
    assert [(i["monitor_id"], i["state"], i["started_at"]) for i in incidents(db)] == [(mid, "firing", T0 + 2 * MINUTE)]


def test_a_bad_at_is_refused_naming_the_value(settings):
    cmd = [sys.executable, "-m", "vigil", "evaluator", "--once", "--at", "yesterday-ish"]
    done = subprocess.run(cmd, env=service_env(settings), capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "yesterday-ish" in done.stderr
