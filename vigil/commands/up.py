"""`vigil up`: everything on one machine, for trying Vigil and for development.

Starts a private PostgreSQL+TimescaleDB and Redis with data under .data/ (kept between
runs), applies migrations, starts the API, scheduler, a worker, the aggregator and the
evaluator and the notifier as child processes, and (unless --no-demo) a demo target with demo monitors.
Every service serves Prometheus metrics on loopback; with --with-prometheus, Debian's
Prometheus runs beside them, scraping all of them with the operator alert rules loaded.
A service that dies is restarted with backoff while the others keep running
(vigil/commands/supervisor.py); only a crash loop stops everything. Ctrl-C stops
everything cleanly.

The services connect to PostgreSQL as vigil_app, a role that is not a superuser, and to
Redis with a password; both passwords are generated once into the data folder."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import psycopg

from vigil.accounts import create_account_with_key
from vigil.commands.demo import DEMO_MONITORS
from vigil.commands.demo_status import BADGE_KEY as DEMO_BADGE_KEY
from vigil.commands.demo_status import SLUG as DEMO_SLUG
from vigil.commands.demo_status import ensure_status_page
from vigil.commands.supervisor import RestartPolicy, Supervisor
from vigil.devcluster import Postgres, Redis, wait_for_ok, wait_for_port
from vigil.migrate import APP_ROLE, ensure_app_role, migrate
from vigil.paths import data_dir
from vigil.prometheus import METRICS_PORTS, PROMETHEUS_PORT, RULES, Prometheus, scrape_config
from vigil.settings import Settings
from vigil.signin import stored_secret

SERVICES = ("api", "scheduler", "worker", "aggregator", "evaluator", "notifier")
# Services that connect as the tables' owner (the migrating role, here the cluster's
# superuser) instead of vigil_app. The aggregator's retention calls drop_chunks and its
# packing runs REINDEX CONCURRENTLY, and PostgreSQL and TimescaleDB allow both only to the
# table's owner. Making vigil_app a member of the owner instead would let it SET ROLE to a
# superuser, so only this one service gets the owner's connection.
AS_OWNER = frozenset({"aggregator"})
# Each service's pid, restart count and last exit, in the data folder while `vigil up` runs.
SERVICES_STATE = "services.json"


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _ensure_demo(settings: Settings, demo_port: int, secret_key: str = "") -> str:
    """Create the demo account and monitors once (with a week of history, alert rules and a
    webhook channel, see vigil/commands/demo_seed.py); return a fresh demo API key (previous demo
    keys are revoked: only hashes are stored, so an old key cannot be shown again)."""
    from vigil.commands.demo_seed import seed_demo

    base = f"http://127.0.0.1:{demo_port}"
    with psycopg.connect(settings.database_url) as conn:
        conn.execute("UPDATE api_keys SET revoked_at = now() WHERE name = 'demo' AND revoked_at IS NULL")
        account_id, token = create_account_with_key(conn, "demo", "admin", key_name="demo")
        for name, path, interval in DEMO_MONITORS:
            conn.execute(
                "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions)"
                " SELECT %s, %s, 'http', %s, %s, 5000, '{local}'"
                " WHERE NOT EXISTS (SELECT 1 FROM monitors WHERE account_id = %s AND name = %s)",
                (account_id, name, base + path, interval, account_id, name))
        conn.execute("INSERT INTO regions (name) VALUES ('local') ON CONFLICT DO NOTHING")
        conn.commit()
        rows = seed_demo(conn, account_id, base, secret_key) if secret_key else None
        ensure_status_page(conn, account_id)
    if rows is not None:
        print(f"seeded {rows:,} results (7 days) for the demo monitors, alert rules and a webhook channel")
        _aggregate_once(settings)
    return token


def _aggregate_once(settings: Settings) -> None:
    import asyncio

    from aggregator.jobs import aggregate
    from vigil.cronworker import run_job_once

    hours = asyncio.run(run_job_once(settings, aggregate))
    print(f"rolled up {hours} hour(s) of demo history")


def _secret_key(data: Path) -> str:
    """VIGIL_SECRET_KEY if set, else a key generated once into the data folder (channel
    secrets are encrypted with it: losing the file makes stored secrets unreadable)."""
    from notify.crypto import generate_key

    if os.environ.get("VIGIL_SECRET_KEY"):
        return os.environ["VIGIL_SECRET_KEY"]
    path = data / "secret_key"
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(generate_key())
        print(f"generated VIGIL_SECRET_KEY into {path}")
    return path.read_text().strip()


def stored_password(data: Path, name: str) -> str:
    """A password generated once into ``data/name`` (mode 0600) and reused after."""
    path = data / name
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(24))  # hex: safe in a URL and a config line as is
    return path.read_text().strip()


def stores(data: Path, pg_port: int, redis_port: int) -> tuple[Postgres, Redis]:
    """The private PostgreSQL and the password-protected Redis, not yet started."""
    return (Postgres(data / "pg", pg_port),
            Redis(redis_port, data / "redis", password=stored_password(data, "redis_password")))


def prepare_database(pg: Postgres, data: Path) -> tuple[Settings, str]:
    """Migrate as the cluster's superuser, then make sure the services' role exists;
    returns the owner's settings and the services' database URL."""
    owner = Settings(database_url=pg.dsn)
    applied = migrate(owner)
    print(f"migrations applied: {len(applied)}")
    password = stored_password(data, "db_app_password")
    ensure_app_role(owner, password)
    return owner, f"postgresql://{APP_ROLE}:{password}@127.0.0.1:{pg.port}/{pg.dbname}"


def service_database_url(service: str, app_url: str, owner_url: str) -> str:
    return owner_url if service in AS_OWNER else app_url


def service_env(base: Mapping[str, str], database_url: str, redis_url: str, api_port: int,
                demo_port: int | None, secret_key: str) -> dict[str, str]:
    """The services' environment. Checks and webhooks may reach the demo target's own
    address and port (its monitors and its webhook receiver) and nothing else private:
    everything else on the machine and its network stays refused, as in production."""
    allowed = [a for a in base.get("VIGIL_ALLOWED_PRIVATE_TARGETS", "").split(",") if a.strip()]
    if demo_port is not None:
        allowed.append(f"127.0.0.1:{demo_port}")
    return {**base, "VIGIL_DATABASE_URL": database_url, "VIGIL_REDIS_URL": redis_url,
            "VIGIL_API_PORT": str(api_port), "VIGIL_ALLOWED_PRIVATE_TARGETS": ",".join(allowed),
            "VIGIL_SECRET_KEY": secret_key}


def metrics_ports(environ: Mapping[str, str]) -> dict[str, int]:
    """Each service's metrics port: VIGIL_<SERVICE>_METRICS_PORT, else the usual one."""
    return {s: int(environ.get(f"VIGIL_{s.upper()}_METRICS_PORT") or default)
            for s, default in METRICS_PORTS.items()}


def prometheus_beside(data: Path, port: int, api_port: int, ports: Mapping[str, int]) -> Prometheus:
    """Prometheus scraping the API (from loopback, so without a token) and every service."""
    config = scrape_config({s: f"127.0.0.1:{p}" for s, p in ports.items() if p},
                           api=f"127.0.0.1:{api_port}", rule_files=(RULES,))
    return Prometheus(port, data / "prometheus", config)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def up(demo: bool = True, with_prometheus: bool = False) -> int:
    # Ctrl-C and SIGTERM both stop everything cleanly, also when started as a background
    # job (whose shell made it ignore SIGINT).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    data = data_dir()
    pg_port = int(os.environ.get("VIGIL_PG_PORT", "5433"))
    redis_port = int(os.environ.get("VIGIL_REDIS_PORT", "6380"))
    api_port = int(os.environ.get("VIGIL_API_PORT", "8080"))
    demo_port = int(os.environ.get("VIGIL_DEMO_PORT", "8099"))
    prometheus_port = int(os.environ.get("VIGIL_PROMETHEUS_PORT") or PROMETHEUS_PORT)
    ports = metrics_ports(os.environ)
    wanted = [("PostgreSQL", pg_port, "VIGIL_PG_PORT"), ("Redis", redis_port, "VIGIL_REDIS_PORT"),
              ("API", api_port, "VIGIL_API_PORT"), ("demo target", demo_port, "VIGIL_DEMO_PORT"),
              *((f"{s} metrics", p, f"VIGIL_{s.upper()}_METRICS_PORT") for s, p in ports.items() if p)]
    if with_prometheus:
        wanted.append(("Prometheus", prometheus_port, "VIGIL_PROMETHEUS_PORT"))
    for name, port, variable in wanted:
        if not _port_free(port):
            print(f"vigil up: port {port} for {name} is in use (another `vigil up`?); "
                  f"set {variable} to another port", file=sys.stderr)
            return 2

    try:
        policy = RestartPolicy(base_s=float(os.environ.get("VIGIL_UP_RESTART_BACKOFF_SECONDS") or 1.0))
    except ValueError:
        policy = RestartPolicy(base_s=-1)
    if not 0 < policy.base_s <= policy.max_s:
        print("vigil up: VIGIL_UP_RESTART_BACKOFF_SECONDS must be a number of seconds above 0 and at most "
              f"{policy.max_s:g}, got {os.environ['VIGIL_UP_RESTART_BACKOFF_SECONDS']!r}", file=sys.stderr)
        return 2

    pg, redis = stores(data, pg_port, redis_port)
    supervisor: Supervisor | None = None
    prometheus = prometheus_beside(data, prometheus_port, api_port, ports) if with_prometheus else None
    try:
        print(f"starting PostgreSQL+TimescaleDB on 127.0.0.1:{pg_port} (data in {pg.datadir})")
        pg.start()
        redis.start()
        owner, app_url = prepare_database(pg, data)
        settings = owner.model_copy(update={"redis_url": redis.url})
        env = service_env(os.environ, app_url, redis.url, api_port, demo_port if demo else None,
                          _secret_key(data))
        env["VIGIL_JWT_SECRET"] = os.environ.get("VIGIL_JWT_SECRET") or stored_secret(data)
        env.update({f"VIGIL_{s.upper()}_METRICS_PORT": str(p) for s, p in ports.items()})
        token = _ensure_demo(settings, demo_port, env["VIGIL_SECRET_KEY"]) if demo else None
        cmds = [(s, [sys.executable, "-m", "vigil", s],
                 {**env, "VIGIL_DATABASE_URL": service_database_url(s, app_url, pg.dsn)})
                for s in SERVICES]
        if demo:
            cmds.append(("demo-target", [sys.executable, "-m", "vigil", "demo-target", "--port", str(demo_port)],
                         env))
        supervisor = Supervisor(cmds, policy, state_file=data / SERVICES_STATE)
        supervisor.start()
        wait_for_port(api_port, timeout=30)
        _wait_healthy(api_port)
        if prometheus:
            prometheus.start()
        print(f"\nVigil is up.\n  API:      http://127.0.0.1:{api_port}/api/v1  "
              f"(OpenAPI: http://127.0.0.1:{api_port}/api/v1/schema/openapi.json)")
        print(f"  metrics:  http://127.0.0.1:{api_port}/metrics, "
              + ", ".join(f"{s} :{p}" for s, p in ports.items() if p))
        if prometheus:
            print(f"  Prometheus: {prometheus.url} (alert rules: {prometheus.url}/alerts)")
        if token:
            _print_tries(token, api_port, demo_port)
        print(f"A service that dies is restarted (restarts: {data / SERVICES_STATE}).")
        print("Ctrl-C stops everything; data stays in", data, flush=True)
        while (crash_loop := supervisor.tick()) is None:
            time.sleep(0.2)
        print(f"vigil up: {crash_loop}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...")
        return 0
    finally:
        if prometheus:
            prometheus.stop()
        if supervisor:
            supervisor.stop()
        redis.stop()
        pg.stop()


def _print_tries(token: str, api_port: int, demo_port: int) -> None:
    a = f"http://127.0.0.1:{api_port}/api/v1"
    print(f"  demo key: {token}\n  try:\n    H='Authorization: Bearer {token}'")
    for path in ("monitors", "monitors/1/stats?window=7d", "monitors/5/series?window=24h&resolution=1h",
                 "monitors/6/status", "incidents", "notifications?limit=5"):
        print(f"    curl -H \"$H\" '{a}/{path}'")
    print(f"    curl http://127.0.0.1:{demo_port}/hook    # webhooks the demo receiver got")
    site = f"http://127.0.0.1:{api_port}"
    print(f"  status page: {site}/status/{DEMO_SLUG}  (JSON: {site}/status/{DEMO_SLUG}.json, "
          f"badge: {site}/badge/{DEMO_SLUG}/{DEMO_BADGE_KEY}/status.svg)")


def _wait_healthy(port: int, timeout: float = 30) -> None:
    wait_for_ok(f"http://127.0.0.1:{port}/api/v1/health", timeout)
