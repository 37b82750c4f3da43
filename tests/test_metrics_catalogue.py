"""The metric catalogue (vigil/metrics.py) against its documentation, Prometheus' naming
rules and bounded labels; the alert rules against promtool; the API's /metrics door."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from vigil.metrics import catalogue, metrics_table
from vigil.operator import generate_operator_token
from vigil.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "observability.md"
RULES = ROOT / "prometheus"
# Labels that would grow with the data (one series per monitor, URL, key, account...).
UNBOUNDED = {"monitor", "monitor_id", "url", "target", "key", "key_prefix", "account", "account_id",
             "path", "user", "email", "channel", "channel_id", "incident", "rule_id", "request_id"}
UNITS = ("_total", "_seconds", "_rows", "_jobs", "_in_flight")
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="needs Debian's prometheus")


def test_the_docs_list_every_metric_with_its_type_labels_and_meaning():
    text = DOCS.read_text()
    assert metrics_table() in text, ("docs/observability.md's metrics table differs from the catalogue: "
                                     "paste the output of `python -m vigil.metrics`")
    documented = set(re.findall(r"^\| `(vigil_\w+)` \|", text, re.MULTILINE))
    assert documented == {name for name, *_ in catalogue()}


def test_metric_names_follow_prometheus_conventions_and_labels_stay_bounded():
    names = [name for name, *_ in catalogue()]
    assert len(names) == len(set(names)) and len(names) >= 35
    for name, kind, labels, meaning in catalogue():
        assert name.startswith("vigil_") and name.endswith(UNITS), name
        assert (kind == "counter") == name.endswith("_total"), name
        assert not UNBOUNDED & set(labels), f"{name} has an unbounded label: {UNBOUNDED & set(labels)}"
        assert meaning.endswith("."), name
    # The four names the metrics were first asked for, under Vigil's namespace.
    for seed in ("checks_processed_total", "checks_failed_total", "worker_queue_lag_seconds",
                 "db_query_duration_seconds"):
        assert f"vigil_{seed}" in names


@needs_promtool
def test_alert_rules_pass_promtool_and_their_unit_tests():
    check = subprocess.run(["promtool", "check", "rules", str(RULES / "rules.yml")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    units = subprocess.run(["promtool", "test", "rules", "rules_test.yml"], cwd=RULES, capture_output=True, text=True)
    assert units.returncode == 0, units.stdout + units.stderr


def test_every_metric_an_alert_rule_reads_is_in_the_catalogue():
    names = {name for name, *_ in catalogue()}
    read = set(re.findall(r"\b(vigil_\w+?)(?:_bucket|_count|_sum)?\b(?=[{\[ )])", (RULES / "rules.yml").read_text()))
    assert read and read <= names, read - names


@pytest.fixture
async def operator_client(settings: Settings):
    from api.app import create_app

    token, digest = generate_operator_token()
    async with AsyncTestClient(app=create_app(settings.model_copy(update={"operator_token_hash": digest}))) as c:
        yield c, token


async def test_api_metrics_answer_the_operator_token_and_refuse_anyone_else(operator_client, auth):
    client, token = operator_client
    assert (await client.get("/api/v1/monitors", headers=auth)).status_code == 200
    refused = await client.get("/metrics")  # the test client is not on loopback
    assert refused.status_code == 401 and "operator token" in refused.json()["detail"]
    assert (await client.get("/metrics", headers=auth)).status_code == 401  # an API key is not enough
    assert (await client.get("/metrics", headers={"Authorization": "Bearer vop_wrong"})).status_code == 401
    ok = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain")
    assert re.search(r'vigil_api_request_duration_seconds_count\{method="GET",route="/api/v1/monitors",'
                     r'status="200"\} [1-9]', ok.text)
    assert re.search(r'vigil_api_refused_requests_total\{reason="auth_failed"\} [1-9]', ok.text)
    assert "/metrics" not in (await client.get("/api/v1/schema/openapi.json", headers=auth)).json()["paths"]


async def test_with_metrics_off_the_api_serves_no_metrics_and_times_nothing(settings: Settings, auth):
    from api.app import create_app

    token, digest = generate_operator_token()
    app = create_app(settings.model_copy(update={"operator_token_hash": digest, "metrics": False}))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/api/v1/monitors", headers=auth)).status_code == 200
        assert (await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})).status_code == 404
    assert getattr(app.asgi_handler, "__qualname__", "") != "timed.<locals>.handler"
