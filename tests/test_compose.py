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
