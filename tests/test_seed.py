import subprocess
import sys
import time

import pytest

from aggregator.seed import SeedPlan, seed
from tests.analytics_fixtures import DAY, ts
from tests.services import service_env

pytestmark = pytest.mark.timeout(60)


def test_seed_writes_every_slot_with_incidents_and_missed_slots(settings, db, capsys):
    end = int(time.time())
    out = seed(settings.database_url, SeedPlan(monitors=5, days=3, regions=["eu", "us"], end=end, seed=1))
    assert out["rows"] == 5 * 3 * 2 * 1440
    n, down, missed, first, last = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT up AND error_kind <> 13), "
        "count(*) FILTER (WHERE error_kind = 13), min(time), max(time) FROM check_results").fetchone()
    assert n == out["rows"] and down > 0 and missed > 0
    assert first >= ts(end - 3 * DAY) and last < ts(end)
    monitors = db.execute("SELECT enabled, tags, regions FROM monitors m JOIN accounts a ON a.id = m.account_id "
                          "WHERE a.name = 'seed' ORDER BY m.id").fetchall()
    assert [m[0] for m in monitors] == [False] * 5  # never checked by the scheduler
    assert [m[1][1] for m in monitors] == ["lognormal", "bimodal", "pareto", "lognormal", "bimodal"]
    assert "100.0%" in capsys.readouterr().err


def test_seeding_history_already_rolled_up_marks_its_hours_dirty(settings, db):
    db.execute("INSERT INTO rollup_state VALUES ('1 hour', now()), ('1 day', date_trunc('day', now()))")
    seed(settings.database_url, SeedPlan(monitors=1, days=0.5, regions=["eu"]), progress=False)
    dirty = db.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0]
    assert 12 <= dirty <= 13


@pytest.mark.parametrize(("args", "named"), [
    (["--monitors", "0", "--days", "1"], "--monitors"),
    (["--monitors", "2", "--days", "-1"], "--days"),
    (["--monitors", "2", "--days", "1", "--regions", "eu", "--quorum", "2"], "--quorum"),
    (["--monitors", "2", "--days", "1", "--interval", "5"], "--interval"),
])
def test_seed_refuses_bad_values_naming_them(settings, args, named):
    out = subprocess.run([sys.executable, "-m", "vigil", "seed", *args], env=service_env(settings),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert named in out.stderr and "Traceback" not in out.stderr
