"""Grafana's provisioning files fit together with compose.yaml and with the dashboard test's
assumptions (compose itself cannot run here: no Docker engine)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import yaml

from vigil.devcluster import pg_bindir
from vigil.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
GRAFANA = ROOT / "grafana"


def _compose_services() -> dict:
    from tests.test_compose import _config

    return _config()["services"]


def _binds(service: dict) -> dict[str, str]:
    """target -> host path of a service's bind mounts (docker-compose prints 'src:dst:mode')."""
    out = {}
    for v in service["volumes"]:
        source, target = (v["source"], v["target"]) if isinstance(v, dict) else v.split(":")[:2]
        if source.startswith("/"):
            out[target] = source
    return out


def test_datasource_is_the_timescaledb_service_read_only_and_matches_the_dashboard():
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/vigil.yaml").read_text())["datasources"][0]
    dashboard = json.loads((GRAFANA / "dashboards/vigil.json").read_text())
    assert source["type"] == "grafana-postgresql-datasource"
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {source["uid"]}
    # tests/grafana_macros.py expands $__timeGroup the TimescaleDB way, as this option asks.
    assert source["jsonData"]["timescaledb"] is True
    grafana = _compose_services()["grafana"]
    env = grafana["environment"]
    for name in re.findall(r"\$\{(\w+)\}", (GRAFANA / "provisioning/datasources/vigil.yaml").read_text()):
        assert name in env, f"the datasource reads {name}, which compose does not set"
    assert env["GRAFANA_DB_HOST"].startswith("timescaledb:")
    assert env["GRAFANA_DB_USER"] == "vigil_grafana"
    assert "vigil_grafana" in (GRAFANA / "initdb/10-grafana-reader.sh").read_text()
    assert "default_transaction_read_only = on" in (GRAFANA / "initdb/10-grafana-reader.sh").read_text()


def test_compose_mounts_provisioning_and_dashboards_where_grafana_reads_them():
    services = _compose_services()
    grafana = services["grafana"]
    assert grafana["image"].startswith("grafana/grafana-oss")
    mounts = _binds(grafana)
    assert Path(mounts["/etc/grafana/provisioning"]) == GRAFANA / "provisioning"
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/vigil.yaml").read_text())["providers"][0]
    assert Path(mounts[provider["options"]["path"]]) == GRAFANA / "dashboards"
    initdb = {t: s for t, s in _binds(services["timescaledb"]).items() if t.startswith("/docker-entrypoint-initdb.d/")}
    assert [Path(s) for s in initdb.values()] == [GRAFANA / "initdb/10-grafana-reader.sh"]


@pytest.mark.timeout(120)
def test_grafana_role_reads_the_dashboard_data_but_no_secrets_and_cannot_write(pg, base_settings):
    """As in the container: the init script runs on a new database, then the migrations."""
    admin = psycopg.connect(pg.dsn, autocommit=True)
    with admin:
        admin.execute("CREATE DATABASE grafana_check")
    parts = urlsplit(pg.dsn)
    env = {**os.environ, "POSTGRES_USER": parts.username, "POSTGRES_DB": "grafana_check",
           "GRAFANA_DB_PASSWORD": "reader-pw", "PGHOST": parts.hostname, "PGPORT": str(parts.port),
           "PATH": f"{pg_bindir()}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(["sh", str(GRAFANA / "initdb/10-grafana-reader.sh")], env=env,
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    dsn = urlunsplit(parts._replace(path="/grafana_check"))
    migrate(base_settings.model_copy(update={"database_url": dsn}))
    reader = urlunsplit(parts._replace(path="/grafana_check", netloc=f"vigil_grafana:reader-pw@{parts.hostname}:{parts.port}"))
    with psycopg.connect(reader, autocommit=True) as conn:
        conn.execute("SELECT count(*) FROM check_results, monitors, rollup_1h").fetchone()
        conn.execute("SELECT * FROM vigil_window_stats(ARRAY[1], now() - interval '1 day', now())").fetchall()
        conn.execute("SELECT * FROM vigil_monitor_slots(1, now() - interval '1 day', now())").fetchall()
        for table in ("api_keys", "channels", "notifications"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT * FROM {table}")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM monitors")
