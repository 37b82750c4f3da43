"""compose.yaml cannot be run here (no Docker engine); validate it with docker-compose."""

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from vigil.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PASSWORDS = {"VIGIL_REDIS_PASSWORD": "redispw123", "VIGIL_APP_DB_PASSWORD": "apppw456"}


def _run_config(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in PASSWORDS}
    return subprocess.run(["docker-compose", "-f", str(ROOT / "compose.yaml"), "config"],
                          capture_output=True, text=True, check=False, env={**base, **env})


def _config() -> dict:
    out = _run_config(**PASSWORDS)
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
        if name not in ("timescaledb", "redis", "grafana", "prometheus"):
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


def test_compose_refuses_to_start_without_the_passwords():
    for missing in PASSWORDS:
        out = _run_config(**{k: v for k, v in PASSWORDS.items() if k != missing})
        assert out.returncode != 0 and f"set {missing}" in out.stderr


def test_redis_requires_a_password_and_services_use_it():
    services = _config()["services"]
    command = services["redis"]["command"]
    assert command[command.index("--requirepass") + 1] == PASSWORDS["VIGIL_REDIS_PASSWORD"]
    assert services["redis"]["environment"]["REDISCLI_AUTH"] == PASSWORDS["VIGIL_REDIS_PASSWORD"]
    for name, service in services.items():
        url = (service.get("environment") or {}).get("VIGIL_REDIS_URL")
        if url is not None:
            assert urlsplit(url).password == PASSWORDS["VIGIL_REDIS_PASSWORD"], name


def test_services_connect_as_the_app_role_not_the_superuser():
    services = _config()["services"]
    superuser = services["timescaledb"]["environment"]["POSTGRES_USER"]
    users = {name: urlsplit(s["environment"]["VIGIL_DATABASE_URL"])
             for name, s in services.items() if "VIGIL_DATABASE_URL" in (s.get("environment") or {})}
    # Migrations need the superuser, and the aggregator table ownership (drop_chunks, REINDEX).
    owners = {"migrate", "aggregator"}
    for name, url in users.items():
        want = superuser if name in owners else "vigil_app"
        assert url.username == want, name
        if name not in owners:
            assert url.password == PASSWORDS["VIGIL_APP_DB_PASSWORD"]
    assert {"api", "scheduler", "worker", "evaluator", "notifier"} <= set(users) - owners
    # The migrate service creates the role with that password.
    assert services["migrate"]["environment"]["VIGIL_APP_DB_PASSWORD"] == PASSWORDS["VIGIL_APP_DB_PASSWORD"]


def test_every_long_running_service_restarts_on_its_own():
    """A service that dies is restarted by Docker while the others keep running; only the
    one-shot migrate service runs once."""
    for name, service in _config()["services"].items():
        assert service.get("restart") == ("no" if name == "migrate" else "unless-stopped"), name
