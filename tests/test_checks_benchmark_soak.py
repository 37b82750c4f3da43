"""The checks benchmark's soak: its warm-up reaches the pipeline's steady state, and its
memory series samples on time."""

import os
import subprocess
import sys
import time

import pytest

from benchmarks.checks import MemorySeries, default_soak_warmup_minutes, growth
from ingest.scheduler import FULL_REFRESH_SECONDS
from vigil.constants import slot_job_lifetime
from vigil.settings import Settings


@pytest.mark.parametrize(("catchup", "minutes"), [(0, 6), (300, 7), (600, 12), (900, 17)])
def test_the_soak_warm_up_outlasts_a_full_refresh_and_a_job_lifetime(catchup, minutes):
    settings = Settings(scheduler_max_catchup_seconds=catchup)
    warmup_s = 60 * default_soak_warmup_minutes(settings)
    assert warmup_s == 60 * minutes
    assert warmup_s > FULL_REFRESH_SECONDS and warmup_s > slot_job_lifetime(catchup)


def test_the_memory_series_samples_every_process_on_time():
    me = os.getpid()
    series = MemorySeries(lambda: {"self": [me], "gone": [2**22 + 1]}, every_s=0.3)
    started = time.monotonic()
    series.sleep(1.0)
    assert 0.95 <= time.monotonic() - started < 1.3
    assert len(series.samples) == 4  # at 0, 0.3, 0.6 and 0.9 s
    assert all(s["self"] > 1 and s["gone"] == 0 for s in series.samples)
    assert [s["minute"] for s in series.samples] == sorted(s["minute"] for s in series.samples)
    quiet = MemorySeries(lambda: {"self": [me]}, every_s=None)
    quiet.sleep(0.2)
    assert len(quiet.samples) == 1


def test_growth_is_relative_to_the_start_and_zero_for_a_process_that_had_none():
    assert growth({"a": 100.0, "b": 0.0}, {"a": 110.0, "b": 5.0}) == pytest.approx({"a": 0.1, "b": 0.0})


@pytest.mark.parametrize(("args", "message"), [
    (["--soak-warmup-minutes", "3"], "--soak-warmup-minutes goes with --soak-minutes"),
    (["--soak-minutes", "5", "--soak-warmup-minutes", "0"], "must be a whole number of at least 1, got 0"),
])
def test_a_bad_soak_option_is_refused_by_name(args, message):
    done = subprocess.run([sys.executable, "-m", "benchmarks.checks", *args], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
