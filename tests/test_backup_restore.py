"""`vigil backup` of a seeded, rolled-up database and `vigil restore` into a fresh cluster:
every table's rows, the rollups and the stats answers come back equal; the commands name
what is wrong with a bad path, URL or target, and never print a password."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from aggregator.rollup import roll
from aggregator.seed import SeedPlan, seed
from api.app import create_app
from benchmarks.harness import throwaway_postgres
from vigil.accounts import add_key
from vigil.db import open_pool
from vigil.devcluster import Postgres, free_port
from vigil.migrate import ensure_app_role
from vigil.settings import Settings

pytestmark = pytest.mark.timeout(240)

SECRET = "s3cret-Pw-never-shown"
END = (int(time.time()) // 3600) * 3600
START = END - 3 * 86400
WINDOW = {"from": datetime.fromtimestamp(START, UTC).isoformat(), "to": datetime.fromtimestamp(END, UTC).isoformat()}
ROLLUPS = ("rollup_1h", "rollup_1d", "rollup_7d", "rollup_28d", "rollup_state")


def _with_password(dsn: str) -> str:
    """The DSN with a password in it (trust authentication ignores it): to show it is never echoed."""
    return dsn.replace("vigil@", f"vigil:{SECRET}@", 1)


def _vigil(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "VIGIL_DATABASE_URL": url}
    out = subprocess.run([sys.executable, "-m", "vigil", *args], env=env, capture_output=True, text=True,
                         timeout=180)
    assert SECRET not in out.stdout + out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    return out


@pytest.fixture(scope="module")
def fresh() -> Iterator[Postgres]:
    """A second, empty cluster: where the backup is restored."""
    with throwaway_postgres(durable=False) as server:
        yield server


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vigil-test-backup-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def seeded(settings: Settings, db: psycopg.Connection) -> str:
    """Three days of history for six monitors in two regions, rolled up; an API key for them."""
    seed(settings.database_url, SeedPlan(monitors=6, days=3, regions=["eu", "us"], quorum=2, end=END),
         progress=False)
    pool = await open_pool(settings.database_url, max_size=2)
    try:
        assert await roll(pool) > 0
    finally:
        await pool.close()
    ensure_app_role(settings, "app-role-password")  # the backup then carries grants to vigil_app
    return add_key(db, "seed", "read")[1]


def _tables(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in names}


def _digest(dsn: str, table: str) -> str:
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t").fetchone()[0]


async def _answers(settings: Settings, dsn: str, key: str) -> list:
    s = settings.model_copy(update={"database_url": dsn, "stats_cache_seconds": 0, "rate_limit_enabled": False})
    headers = {"Authorization": f"Bearer {key}"}
    out = []
    async with AsyncTestClient(app=create_app(s)) as c:
        monitors = (await c.get("/api/v1/monitors", headers=headers)).json()
        assert len(monitors) == 6
        for m in monitors:
            for route, params in (("stats", WINDOW), ("regions", WINDOW), ("downtimes", WINDOW),
                                  ("series", {**WINDOW, "resolution": "1h"})):
                r = await c.get(f"/api/v1/monitors/{m['id']}/{route}", params=params, headers=headers)
                assert r.status_code == 200, r.text
                out.append(r.json())
        r = await c.get("/api/v1/stats", params={**WINDOW, "tag": "seed"}, headers=headers)
        assert r.status_code == 200 and r.json()["checks"] > 0
        out.append(r.json())
    return out


async def test_a_restored_backup_has_the_same_rows_rollups_and_answers(settings, seeded, fresh, workdir):
    archive = workdir / "vigil.dump"
    out = _vigil(_with_password(settings.database_url), "backup", str(archive))
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    manifest = json.loads((workdir / "vigil.dump.json").read_text())
    assert SECRET not in json.dumps(manifest)
    source_rows = _tables(settings.database_url)
    assert manifest["rows"] == source_rows and source_rows["check_results"] == 6 * 3 * 2 * 1440
    assert summary["rows"] == sum(source_rows.values()) and summary["sha256"] == manifest["archive"]["sha256"]
    assert summary["file"] == str(archive) and summary["bytes"] == archive.stat().st_size
    assert "jit=off" in manifest["database_settings"] and "vigil_app" in manifest["roles"]

    target = _with_password(fresh.dsn.rsplit("/", 1)[0] + "/vigil_restored")  # a database yet to create
    refused = _vigil(target, "restore", str(archive))
    assert refused.returncode == 2
    assert "roles this server does not have: vigil_app" in refused.stderr and "--no-privileges" in refused.stderr
    with psycopg.connect(fresh.dsn, autocommit=True) as conn:
        for role in manifest["roles"]:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f'CREATE ROLE "{role}"')
    out = _vigil(target, "restore", str(archive))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["verified"] is True

    restored = target.replace(f":{SECRET}", "")
    assert _tables(restored) == source_rows
    for table in ROLLUPS:
        assert _digest(restored, table) == _digest(settings.database_url, table), table
    assert await _answers(settings, restored, seeded) == await _answers(settings, settings.database_url, seeded)
    with psycopg.connect(restored, autocommit=True) as conn:
        assert conn.execute("SHOW jit").fetchone()[0] == "off"  # the database's own setting came back
        assert conn.execute("SHOW timescaledb.restoring").fetchone()[0] == "off"
        assert conn.execute("SELECT has_table_privilege('vigil_app', 'check_results', 'INSERT')").fetchone()[0]
        chunks = "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'check_results'"
        assert conn.execute(chunks).fetchone()[0] > 1
        # Still a working hypertable: a new row lands in a new chunk.
        conn.execute("INSERT INTO check_results (time, monitor_id, region_id, up, error_kind, latency_us) "
                     "SELECT %s, min(id), (SELECT min(id) FROM regions), true, 0, 1000 FROM monitors",
                     (datetime.now(UTC) + timedelta(days=2),))
    # The same archive again, without its grants, into a database that has the extension
    # already (as the official image makes its first one) and no roles named.
    with psycopg.connect(fresh.dsn, autocommit=True) as conn:
        conn.execute("CREATE DATABASE vigil_bare")
    with psycopg.connect(fresh.dsn.rsplit("/", 1)[0] + "/vigil_bare", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION timescaledb")
    bare = _with_password(fresh.dsn.rsplit("/", 1)[0] + "/vigil_bare")
    out = _vigil(bare, "restore", "--no-privileges", str(archive))
    assert out.returncode == 0, out.stderr
    with psycopg.connect(bare.replace(f":{SECRET}", ""), autocommit=True) as conn:
        assert not conn.execute("SELECT has_table_privilege('vigil_app', 'check_results', 'SELECT')").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM check_results").fetchone()[0] == source_rows["check_results"]


def test_backup_and_restore_name_what_is_wrong(settings, workdir, fresh):
    url = _with_password(settings.database_url)
    out = _vigil(url, "backup", str(workdir / "no-such-folder" / "x.dump"))
    assert out.returncode == 2 and f"folder {workdir / 'no-such-folder'} does not exist" in out.stderr
    (workdir / "taken.dump").write_text("")
    out = _vigil(url, "backup", str(workdir / "taken.dump"))
    assert out.returncode == 2 and "already exists" in out.stderr and "taken.dump" in out.stderr
    dead = f"postgresql://vigil:{SECRET}@127.0.0.1:{free_port()}/vigil"
    out = _vigil(dead, "backup", str(workdir / "x.dump"))
    assert out.returncode == 2 and "cannot reach the database at vigil@127.0.0.1:" in out.stderr
    assert not (workdir / "x.dump").exists() and not (workdir / "x.dump.partial").exists()
    out = _vigil(f"host=127.0.0.1 password='{SECRET}", "backup", str(workdir / "x.dump"))
    assert out.returncode == 2 and "VIGIL_DATABASE_URL is not a valid connection string" in out.stderr

    out = _vigil(url, "restore", str(workdir / "missing.dump"))
    assert out.returncode == 2 and f"no backup at {workdir / 'missing.dump'}" in out.stderr
    out = _vigil(url, "restore", str(workdir / "taken.dump"))
    assert out.returncode == 2 and "no manifest" in out.stderr and "taken.dump.json" in out.stderr

    archive = workdir / "small.dump"
    assert _vigil(url, "backup", str(archive)).returncode == 0
    out = _vigil(url, "restore", str(archive))  # the source itself: not empty
    assert out.returncode == 2 and "is not empty" in out.stderr and "restore into a new or empty database" in out.stderr
    manifest = json.loads((workdir / "small.dump.json").read_text())
    with open(archive, "ab") as fh:
        fh.write(b"tampered")
    out = _vigil(_with_password(fresh.dsn.rsplit("/", 1)[0] + "/vigil_tampered"), "restore", str(archive))
    assert out.returncode == 2 and "does not match its manifest" in out.stderr
    manifest["archive"]["sha256"] = _sha(archive)
    manifest["timescaledb"] = "0.0.1"
    (workdir / "small.dump.json").write_text(json.dumps(manifest))
    out = _vigil(_with_password(fresh.dsn.rsplit("/", 1)[0] + "/vigil_tampered"), "restore", str(archive))
    assert out.returncode == 2 and "the backup needs TimescaleDB 0.0.1" in out.stderr


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
