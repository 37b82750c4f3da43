"""`vigil up`'s stores, started the way it starts them: the services reach PostgreSQL as a
role that is not a superuser and Redis only with the generated password."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import redis as sync_redis
from psycopg import errors

from aggregator.jobs import aggregate
from tests.pipeline_fixtures import add_monitors
from vigil.accounts import create_account_with_key
from vigil.commands.up import SERVICES, prepare_database, service_database_url, stores
from vigil.cronworker import run_job_once
from vigil.devcluster import free_port
from vigil.migrate import APP_ROLE

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def data():
    root = Path(tempfile.mkdtemp(prefix="vigil-up-roles-"))
    os.chmod(root, 0o755)  # the cluster's user must reach it when we are root
    yield root / "data"
    shutil.rmtree(root, ignore_errors=True)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_services_use_a_non_superuser_role_and_redis_needs_the_password(data):
    pg, redis = stores(data, free_port(), free_port())
    pg.durable = False
    try:
        pg.start()
        redis.start()
        owner, app_url = prepare_database(pg, data)
        for name in ("db_app_password", "redis_password"):
            assert _mode(data / name) == 0o600
        # The next start reuses both passwords, and the role is created idempotently.
        again, redis_again = stores(data, pg.port, redis.port)
        assert redis_again.url == redis.url
        assert prepare_database(again, data)[1] == app_url
        assert f"{APP_ROLE}:" in app_url and redis.password and redis.password in redis.url

        # Every service but the aggregator connects as the app role.
        for service in SERVICES:
            want = pg.dsn if service == "aggregator" else app_url
            assert service_database_url(service, app_url, pg.dsn) == want
        with psycopg.connect(pg.dsn) as conn:
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]

        now = datetime.now(UTC)
        with psycopg.connect(app_url, autocommit=True) as conn:
            row = conn.execute("SELECT current_user, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                               "WHERE rolname = current_user").fetchone()
            assert row == (APP_ROLE, False, False, False)
            # Service work: an account, a monitor, check results (the old one opens a chunk).
            account_id, _ = create_account_with_key(conn, "acme", "admin")
            [monitor] = add_monitors(conn, account_id, 1, "http://127.0.0.1:9/", created_ago_s=4 * 86_400)
            region = conn.execute("SELECT id FROM regions WHERE name = 'local'").fetchone()[0]
            for at in (now - timedelta(days=3), now - timedelta(minutes=10)):
                conn.execute("INSERT INTO check_results (time, monitor_id, region_id, up, latency_us) "
                             "VALUES (%s, %s, %s, true, 1000)", (at, monitor, region))
            # What it may not do: superuser settings, DDL, and the owner-only maintenance
            # the aggregator needs (which is why the aggregator connects as the owner).
            for statement in ("SET session_replication_role = replica", "CREATE TABLE x (i int)",
                              "TRUNCATE check_results",
                              "SELECT drop_chunks('check_results', older_than => now() - interval '1 day')"):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(statement)
            chunk_index = conn.execute(
                "SELECT i.indexrelid::regclass::text FROM timescaledb_information.chunks c "
                "JOIN pg_index i ON i.indrelid = format('%I.%I', c.chunk_schema, c.chunk_name)::regclass "
                "WHERE c.hypertable_name = 'check_results' LIMIT 1").fetchone()[0]
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(f"REINDEX INDEX CONCURRENTLY {chunk_index}")

        # The aggregator's roll, retention and packing once, on the URL `vigil up` gives it.
        agg = owner.model_copy(update={"database_url": service_database_url("aggregator", app_url, pg.dsn),
                                       "redis_url": redis.url, "raw_retention_days": 1})
        assert asyncio.run(run_job_once(agg, aggregate)) > 0
        with psycopg.connect(app_url) as conn:
            times = [r[0] for r in conn.execute("SELECT time FROM check_results")]
            assert times == [now - timedelta(minutes=10)]  # the 3-day-old chunk was dropped
            assert conn.execute("SELECT count(*) FROM rollup_1h").fetchone()[0] > 0

        # Redis: refused without the password, served with the generated one.
        with pytest.raises(sync_redis.AuthenticationError):
            sync_redis.Redis(port=redis.port).ping()
        with pytest.raises(sync_redis.AuthenticationError):
            sync_redis.Redis(port=redis.port, password="wrong").ping()
        assert sync_redis.Redis.from_url(redis.url).ping()
        # The password is not on redis-server's command line.
        assert redis.password.encode() not in Path(f"/proc/{redis.proc.pid}/cmdline").read_bytes()
    finally:
        redis.stop()
        pg.destroy()


def test_vigil_migrate_creates_the_app_role_when_given_its_password(data):
    import subprocess
    import sys

    pg, _ = stores(data, free_port(), free_port())
    pg.durable = False
    try:
        pg.start()
        env = {**os.environ, "VIGIL_DATABASE_URL": pg.dsn, "VIGIL_APP_DB_PASSWORD": "s3cret"}
        for _ in range(2):  # idempotent
            out = subprocess.run([sys.executable, "-m", "vigil", "migrate"], env=env,
                                 capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, out.stderr
            assert f"role {APP_ROLE} is ready" in out.stdout
        with psycopg.connect(pg.dsn) as conn:
            row = conn.execute("SELECT rolsuper, rolcanlogin, rolpassword IS NOT NULL FROM pg_authid "
                               "WHERE rolname = %s", (APP_ROLE,)).fetchone()
            assert row == (False, True, True)
            assert conn.execute("SELECT has_table_privilege(%s, 'check_results', 'INSERT'), "
                                "has_table_privilege(%s, 'check_results', 'TRUNCATE')",
                                (APP_ROLE, APP_ROLE)).fetchone() == (True, False)
    finally:
        pg.destroy()
