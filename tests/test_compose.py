"""compose.yaml cannot be run here (no Docker engine); validate it with docker-compose."""

import subprocess
from pathlib import Path

import yaml

from vigil.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _config() -> dict:
    out = subprocess.run(["docker-compose", "-f", str(ROOT / "compose.yaml"), "config"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def test_compose_file_is_valid_and_runs_every_service():
    services = _config()["services"]
    assert {"timescaledb", "redis", "migrate", "api", "scheduler", "worker", "aggregator",
            "evaluator"} <= set(services)
    assert "timescale/timescaledb" in services["timescaledb"]["image"]
    for name in ("api", "scheduler", "worker", "aggregator", "evaluator"):
        assert services[name]["command"][0] == name


def test_compose_configures_services_through_vigil_settings():
    known = {f"VIGIL_{name.upper()}" for name in Settings.model_fields}
    for name, service in _config()["services"].items():
        env = service.get("environment") or {}
        vigil_vars = {k for k in env if k.startswith("VIGIL_")}
        assert vigil_vars <= known, f"{name} sets unknown settings {vigil_vars - known}"
        if name not in ("timescaledb", "redis", "grafana"):
            assert "VIGIL_DATABASE_URL" in env


def test_compose_passes_each_service_the_settings_it_needs():
    services = _config()["services"]
    env = {name: set(s.get("environment") or {}) for name, s in services.items()}
    for name in ("api", "notifier"):  # channel secrets are encrypted by one and read by the other
        assert "VIGIL_SECRET_KEY" in env[name]
    assert {"VIGIL_SMTP_HOST", "VIGIL_SMTP_PORT", "VIGIL_SMTP_STARTTLS", "VIGIL_SMTP_USERNAME",
            "VIGIL_SMTP_PASSWORD", "VIGIL_SMTP_FROM", "VIGIL_SMTP_CA_FILE", "VIGIL_REPORT_TIMEZONE"} <= env["notifier"]
    assert {"VIGIL_CHUNK_INTERVAL", "VIGIL_HASH_PARTITIONS"} <= env["migrate"]
    assert "VIGIL_EVALUATOR_CRON_SECOND" in env["evaluator"]
    worker = services["worker"]
    port = worker["environment"]["VIGIL_WORKER_HEALTH_PORT"]
    assert int(port) > 0 and f":{port}/health" in " ".join(worker["healthcheck"]["test"])
    assert services["notifier"]["command"] == ["notifier"]


def test_the_image_holds_every_python_package_the_services_import():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("vigil", "api", "ingest", "aggregator", "evaluator", "notify", "sql"):
        assert f"COPY {package} {package}" in dockerfile
