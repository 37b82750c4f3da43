"""compose.yaml's Prometheus and the Grafana dashboard on it fit together (compose cannot run
here: no Docker engine), and every metric they name is one Vigil exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vigil.metrics import catalogue

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "prometheus" / "compose.yml"
DASHBOARD = ROOT / "grafana" / "dashboards" / "vigil-operations.json"
DATASOURCE = ROOT / "grafana" / "provisioning" / "datasources" / "prometheus.yaml"
SCRAPED = ("api", "scheduler", "worker", "aggregator", "evaluator", "notifier")


def _services() -> dict:
    from tests.test_compose import _config

    return _config()["services"]


def metric_names(expr: str) -> set[str]:
    """The Vigil metrics a PromQL expression reads (histogram series by their family's name)."""
    return {re.sub(r"_(bucket|count|sum)$", "", m) for m in re.findall(r"\bvigil_\w+", expr)}


def test_compose_prometheus_scrapes_every_service_where_it_serves_metrics():
    services = _services()
    config = yaml.safe_load(CONFIG.read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert set(jobs) == set(SCRAPED)
    for name in SCRAPED[1:]:
        env = services[name]["environment"]
        assert env["VIGIL_METRICS_HOST"] == "0.0.0.0"
        port = env[f"VIGIL_{name.upper()}_METRICS_PORT"]
        assert jobs[name]["static_configs"][0]["targets"] == [f"{name}:{port}"]
    api = services["api"]
    port = api["command"][api["command"].index("--port") + 1]
    assert jobs["api"]["static_configs"][0]["targets"] == [f"api:{port}"]
    assert jobs["api"]["metrics_path"] == "/metrics"
    assert "VIGIL_OPERATOR_TOKEN_HASH" in api["environment"]
    prometheus = services["prometheus"]
    secret = jobs["api"]["authorization"]["credentials_file"]
    assert secret == f"/run/secrets/{prometheus['secrets'][0]['source']}"
    from tests.test_grafana_provisioning import _binds

    mounts = _binds(prometheus)
    assert Path(mounts["/etc/prometheus/prometheus.yml"]) == CONFIG
    assert config["rule_files"] == ["/etc/prometheus/rules.yml"]
    assert Path(mounts["/etc/prometheus/rules.yml"]) == ROOT / "prometheus" / "rules.yml"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs Debian's prometheus")
def test_compose_prometheus_config_passes_promtool():
    out = subprocess.run(["promtool", "check", "config", "--syntax-only", str(CONFIG)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_operations_dashboard_reads_the_prometheus_datasource_and_known_metrics():
    source = yaml.safe_load(DATASOURCE.read_text())["datasources"][0]
    assert source["type"] == "prometheus"
    host_port = source["url"].removeprefix("http://")
    assert host_port == "prometheus:9090" and "prometheus" in _services()
    dashboard = json.loads(DASHBOARD.read_text())
    known = {name for name, *_ in catalogue()}
    covered = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            assert names and names <= known, f"{panel['title']}: {names - known}"
            covered |= names
    # What operators were promised a panel for.
    for name in ("vigil_checks_processed_total", "vigil_check_lateness_seconds", "vigil_worker_queue_lag_seconds",
                 "vigil_checks_failed_total", "vigil_db_query_duration_seconds",
                 "vigil_api_request_duration_seconds", "vigil_outbox_oldest_undelivered_age_seconds"):
        assert name in covered, name
    titles = [p["title"] for p in dashboard["panels"]]
    assert len(titles) == len(set(titles))
