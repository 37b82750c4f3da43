"""`vigil up` supervises its services: one that dies (kill -9) is restarted with backoff
while the others, the API and PostgreSQL keep running, and checks go on being stored; only
a crash loop stops everything, with a message saying so. First the supervisor alone with
small real processes and a clock the test moves, then `vigil up` itself."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.pipeline_fixtures import wait_until
from vigil.commands.supervisor import RestartPolicy, Supervisor
from vigil.commands.up import SERVICES_STATE
from vigil.devcluster import Postgres, free_port
from vigil.prometheus import METRICS_PORTS

LIVES = [sys.executable, "-c", "import time; time.sleep(120)"]
DIES = [sys.executable, "-c", "raise SystemExit(3)"]


@pytest.mark.parametrize(("deaths", "delay"), [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (40, 30.0)])
def test_backoff_doubles_up_to_its_ceiling(deaths, delay):
    assert RestartPolicy().delay_s(deaths) == delay


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _supervisor(tmp_path: Path, policy: RestartPolicy, said: list[str]) -> tuple[Supervisor, Clock]:
    clock = Clock()
    sup = Supervisor([("steady", LIVES, os.environ), ("flaky", DIES, os.environ)], policy,
                     state_file=tmp_path / "state.json", say=said.append, clock=clock)
    return sup, clock


def _tick_until_dead(sup: Supervisor, name: str) -> str | None:
    service = next(s for s in sup.services if s.name == name)
    service.proc.wait(10)
    return sup.tick()


@pytest.mark.timeout(60)
def test_a_dead_service_is_restarted_after_its_backoff_and_the_others_keep_running(tmp_path):
    said: list[str] = []
    sup, clock = _supervisor(tmp_path, RestartPolicy(base_s=1, limit=5, window_s=60), said)
    sup.start()
    try:
        steady_pid = sup.state()["steady"]["pid"]
        assert _tick_until_dead(sup, "flaky") is None
        assert said[-1].startswith("flaky (pid ") and said[-1].endswith("exited with code 3; restarting it in 1 s")
        state = json.loads((tmp_path / "state.json").read_text())
        assert state["flaky"] == {"pid": None, "running": False, "restarts": 0, "last_exit": "exited with code 3"}
        clock.now = 0.9
        sup.tick()
        assert sup.state()["flaky"]["restarts"] == 0  # not yet: the backoff runs
        clock.now = 1.0
        sup.tick()
        assert sup.state()["flaky"]["restarts"] == 1 and "flaky restarted" in said[-1]
        assert _tick_until_dead(sup, "flaky") is None
        assert said[-1].endswith("restarting it in 2 s")  # the second death in the window waits twice as long
        state = json.loads((tmp_path / "state.json").read_text())
        assert state["steady"] == {"pid": steady_pid, "running": True, "restarts": 0, "last_exit": None}
    finally:
        sup.stop()
    assert not (tmp_path / "state.json").exists()


@pytest.mark.timeout(60)
def test_more_restarts_than_the_limit_within_the_window_is_a_crash_loop(tmp_path):
    said: list[str] = []
    sup, clock = _supervisor(tmp_path, RestartPolicy(base_s=1, max_s=4, limit=3, window_s=60), said)
    sup.start()
    try:
        for _ in range(3):
            assert _tick_until_dead(sup, "flaky") is None
            clock.now += 4
            sup.tick()
        loop = _tick_until_dead(sup, "flaky")
        assert loop == ("flaky died 4 times within 60 s (last: it exited with code 3): a crash loop, "
                        "so everything stops; its output above says why")
        # Deaths that fall out of the window no longer count.
        sup2, clock2 = _supervisor(tmp_path, RestartPolicy(base_s=1, limit=1, window_s=10), [])
        sup2.start()
        try:
            assert _tick_until_dead(sup2, "flaky") is None
            clock2.now = 11
            sup2.tick()
            assert _tick_until_dead(sup2, "flaky") is None
        finally:
            sup2.stop()
    finally:
        sup.stop()


# --- `vigil up` itself ---

def _up_env(data: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "VIGIL_DATA_DIR": str(data), "VIGIL_LOG_LEVEL": "WARNING",
            **{f"VIGIL_{name}_PORT": str(free_port()) for name in ("PG", "REDIS", "API", "DEMO")},
            **{f"VIGIL_{s.upper()}_METRICS_PORT": str(free_port()) for s in METRICS_PORTS},
            "VIGIL_WORKER_HEALTH_PORT": str(free_port()), **extra}


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _state(data: Path) -> dict:
    try:
        return json.loads((data / SERVICES_STATE).read_text())
    except (OSError, ValueError):
        return {}


def _running_pid(data: Path, service: str, other_than: int = 0) -> int | None:
    s = _state(data).get(service, {})
    return s["pid"] if s.get("running") and s["pid"] != other_than else None


class Watch(threading.Thread):
    """Polls a URL until stopped; remembers every failure."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.polls, self.failures = url, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.polls += 1
            self.failures += not _ok(self.url)
            self.done.wait(0.2)


@pytest.fixture
def data():
    root = Path(tempfile.mkdtemp(prefix="vigil-up-supervise-"))
    os.chmod(root, 0o755)  # the cluster's user must reach it when we are root
    yield root / "data"
    shutil.rmtree(root, ignore_errors=True)


def _start_up(data: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "vigil", "up", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    wait_until(lambda: proc.poll() is not None or _running_pid(data, "worker"), 150, 0.5)
    assert proc.poll() is None, proc.communicate()[0]
    return proc


def _finish(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    return proc.communicate(timeout=90)[0]


@pytest.mark.timeout(400)
def test_kill_9_of_the_worker_restarts_it_while_the_api_and_checks_go_on(data):
    env = _up_env(data)
    api = f"http://127.0.0.1:{env['VIGIL_API_PORT']}/api/v1/health"
    worker_health = f"http://127.0.0.1:{env['VIGIL_WORKER_HEALTH_PORT']}/health"
    proc = _start_up(data, env)
    watch = Watch(api)
    try:
        wait_until(lambda: _ok(api) and _ok(worker_health), 60, 0.5)
        pg = Postgres(data / "pg", int(env["VIGIL_PG_PORT"]))
        with psycopg.connect(pg.dsn, autocommit=True) as db:
            def stored_since(t: float) -> int:
                return db.execute("SELECT count(*) FROM check_results WHERE error_kind <> 13 "
                                  "AND time >= to_timestamp(%s)", (t,)).fetchone()[0]

            wait_until(lambda: stored_since(time.time() - 60), 90, 1.0)  # checks are being stored
            watch.start()
            old = _running_pid(data, "worker")
            others = {s: v["pid"] for s, v in _state(data).items() if s != "worker"}
            os.kill(old, signal.SIGKILL)
            killed_at = time.time()
            new = wait_until(lambda: _running_pid(data, "worker", other_than=old), 30, 0.2)
            assert new != old
            wait_until(lambda: _ok(worker_health), 60, 0.5)
            # A slot after the restart is checked and stored (the demo monitors run every 30 s).
            wait_until(lambda: stored_since(killed_at + 1), 90, 1.0)
            state = _state(data)
            assert state["worker"]["restarts"] == 1 and state["worker"]["last_exit"] == "was killed by SIGKILL"
            assert {s: v["pid"] for s, v in state.items() if s != "worker"} == others  # nobody else restarted
            assert all(v["running"] for v in state.values())
            # The next slot can land within seconds of the restart: keep watching the API
            # for at least 20 polls however soon it came.
            wait_until(lambda: watch.polls > 20, 30, 0.2)
        watch.done.set()
        watch.join()
        assert watch.polls > 20 and watch.failures == 0  # the API answered throughout
    finally:
        watch.done.set()
        out = _finish(proc)
    assert proc.returncode == 0, out
    assert f"worker (pid {old}) was killed by SIGKILL; restarting it in 1 s" in out
    assert f"worker restarted (pid {new}; 1 restart since vigil up started)" in out
    assert "stopped unexpectedly" not in out


@pytest.mark.timeout(300)
def test_a_crash_loop_stops_everything_with_a_message(data):
    env = _up_env(data, VIGIL_UP_RESTART_BACKOFF_SECONDS="0.1")
    proc = _start_up(data, env, "--no-demo")
    try:
        pid = 0
        for _ in range(6):  # five restarts are allowed within a minute; the sixth death is a loop
            pid = wait_until(lambda old=pid: proc.poll() is not None or _running_pid(data, "worker", other_than=old),
                             30, 0.1)
            if proc.poll() is not None:
                break
            os.kill(pid, signal.SIGKILL)
        proc.wait(90)
    finally:
        out = _finish(proc)
    assert proc.returncode == 1, out
    assert ("vigil up: worker died 6 times within 60 s (last: it was killed by SIGKILL): a crash loop, "
            "so everything stops") in out
    assert not _ok(f"http://127.0.0.1:{env['VIGIL_API_PORT']}/api/v1/health")
    with pytest.raises(psycopg.OperationalError):  # PostgreSQL stopped with the rest
        psycopg.connect(Postgres(data / "pg", int(env["VIGIL_PG_PORT"])).dsn, connect_timeout=3)


def test_a_bad_backoff_setting_is_refused_naming_it(data):
    proc = subprocess.run([sys.executable, "-m", "vigil", "up"], capture_output=True, text=True, timeout=60,
                          env=_up_env(data, VIGIL_UP_RESTART_BACKOFF_SECONDS="soon"))
    assert proc.returncode == 2
    assert "VIGIL_UP_RESTART_BACKOFF_SECONDS must be a number of seconds above 0" in proc.stderr
    assert "'soon'" in proc.stderr
