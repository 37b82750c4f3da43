"""`vigil up --with-prometheus`: Debian's Prometheus runs beside the services, scrapes every
one of them and loads the operator alert rules; Ctrl-C (SIGTERM) stops it with the rest."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.pipeline_fixtures import wait_until
from vigil.devcluster import free_port
from vigil.prometheus import METRICS_PORTS, Prometheus

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None, reason="needs Debian's prometheus")


@pytest.mark.timeout(300)
def test_vigil_up_with_prometheus_scrapes_every_service_and_loads_the_alert_rules():
    data = Path(tempfile.mkdtemp(prefix="vigil-test-up-"))
    os.chmod(data, 0o755)
    prometheus_port = free_port()
    env = {**os.environ, "VIGIL_DATA_DIR": str(data), "VIGIL_PROMETHEUS_PORT": str(prometheus_port),
           "VIGIL_LOG_LEVEL": "WARNING",
           **{f"VIGIL_{name}_PORT": str(free_port()) for name in ("PG", "REDIS", "API", "DEMO")},
           **{f"VIGIL_{s.upper()}_METRICS_PORT": str(free_port()) for s in METRICS_PORTS}}
    proc = subprocess.Popen([sys.executable, "-m", "vigil", "up", "--no-demo", "--with-prometheus"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    prometheus = Prometheus(prometheus_port, data / "prometheus", "")
    try:
        def healthy() -> dict | None:
            try:
                targets = prometheus.api("targets")["activeTargets"]
            except OSError:
                return None
            health = {t["labels"]["job"]: t["health"] for t in targets}
            return health if set(health.values()) == {"up"} and len(health) == 6 else None

        health = wait_until(healthy, 150, 1.0)
        assert set(health) == {"api", *METRICS_PORTS}
        rules = [r["name"] for g in prometheus.api("rules")["groups"] for r in g["rules"]]
        assert "VigilQueueLagHigh" in rules and len(rules) == 10
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        shutil.rmtree(data, ignore_errors=True)
    assert proc.returncode == 0, out
    assert f"Prometheus: http://127.0.0.1:{prometheus_port}" in out
    with pytest.raises(OSError):  # stopped with the rest
        prometheus.api("targets")
