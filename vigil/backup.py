"""`vigil backup` and `vigil restore`: a pg_dump archive (custom format) of the whole Vigil
database, and a manifest beside it (FILE.json) that makes the restore checkable.

The manifest holds what the archive cannot: the TimescaleDB version (a restore needs the
same one), the database's own settings (``ALTER DATABASE ... SET``, such as jit = off,
which pg_dump leaves out), the roles the archive's privileges name, the archive's SHA-256,
and the row count of every table, counted in the very snapshot pg_dump dumps (an exported
snapshot), so that a restore can prove it brought back every row. Restoring follows
TimescaleDB's procedure: timescaledb_pre_restore(), pg_restore, timescaledb_post_restore().
See docs/backup.md. Passwords go to the client tools through PGPASSWORD, never on their
command line, and never into the manifest or a message."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql as q

from vigil.clierrors import safe_dsn

FORMAT = "vigil-backup 1"
MANIFEST_SUFFIX = ".json"
# Settings a restore must not carry over: TimescaleDB sets it itself while restoring.
TRANSIENT_SETTINGS = ("timescaledb.restoring",)

_TABLES = ("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
_DB_SETTINGS = ("SELECT unnest(setconfig) FROM pg_db_role_setting WHERE setrole = 0 "
                "AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())")
# Tables other than the system's and an extension's own (TimescaleDB's catalog, present
# once the extension is created, as the official image does in its first database).
_USER_TABLES = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')"""
# Every role the archive's GRANTs and default privileges name (PUBLIC, oid 0, is no role).
_ACL_ROLES = """
SELECT DISTINCT r.rolname FROM (
    SELECT a.grantee, a.grantor FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
           aclexplode(c.relacl) a WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION SELECT a.grantee, a.grantor FROM pg_namespace n, aclexplode(n.nspacl) a
           WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
    UNION SELECT a.grantee, a.grantor FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
           aclexplode(p.proacl) a WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION SELECT a.grantee, d.defaclrole FROM pg_default_acl d, aclexplode(d.defaclacl) a
) g JOIN pg_roles r ON r.oid IN (g.grantee, g.grantor) ORDER BY 1"""


class BackupError(ValueError):
    """A backup or restore that cannot go on, in words naming what is wrong."""


def _conninfo(url: str, setting: str) -> tuple[dict, dict[str, str]]:
    """The connection's parts without its password, and the environment that carries it."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise BackupError(f"{setting} is not a valid connection string") from None
    env = {**os.environ}
    password = parts.pop("password", None)
    if password:
        env["PGPASSWORD"] = password
    return parts, env


def _connect(url: str, setting: str, **kwargs) -> psycopg.Connection:
    try:
        return psycopg.connect(url, connect_timeout=5, **kwargs)
    except psycopg.ProgrammingError:
        raise BackupError(f"{setting} is not a valid connection string") from None
    except psycopg.OperationalError as exc:
        raise BackupError(f"cannot reach the database at {safe_dsn(url)} ({setting}): {_scrub(str(exc))}") from None


def _scrub(text: str) -> str:
    """The last meaningful line of a tool's or driver's message, with any password in a URL hidden."""
    lines = [line for line in re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text).splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"


def _tool(name: str, server_version: int) -> str:
    """The client tool of the server's major version when installed (Debian keeps one per
    version), else the one on PATH if it is not older than the server."""
    major = server_version // 10000
    exact = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if exact.exists():
        return str(exact)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL {major} client tools")
    out = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    if m and int(m.group(1)) < major:
        raise BackupError(f"{found} is version {m.group(1)}, older than the server ({major}): "
                          f"install the PostgreSQL {major} client tools")
    return found


def _writable_target(path: Path) -> None:
    if path.exists():
        raise BackupError(f"{path} already exists: give a new file name (a backup never overwrites one)")
    if not path.parent.is_dir():
        raise BackupError(f"cannot write {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise BackupError(f"cannot write {path}: folder {path.parent} is not writable")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _row_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = [r[0] for r in conn.execute(_TABLES)]
    return {t: conn.execute(q.SQL("SELECT count(*) FROM {}").format(q.SQL(t))).fetchone()[0] for t in tables}


def _timescaledb_version(conn: psycopg.Connection) -> str | None:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    return row[0] if row else None


def backup(url: str, path: Path, setting: str = "VIGIL_DATABASE_URL") -> dict:
    """Dump the database at url into path (pg_dump custom format) and write path.json.
    Returns the manifest."""
    path = Path(path)
    manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    _writable_target(path)
    _writable_target(manifest_path)
    parts, env = _conninfo(url, setting)
    partial = path.with_name(path.name + ".partial")
    with _connect(url, setting, autocommit=True) as conn:
        # One snapshot for the counts and the dump: pg_dump takes it over (--snapshot)
        # while this transaction stays open.
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        tsdb = _timescaledb_version(conn)
        if tsdb is None:
            raise BackupError(f"the database at {safe_dsn(url)} has no TimescaleDB extension: not a Vigil database")
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": safe_dsn(url),
            "postgresql": conn.execute("SHOW server_version").fetchone()[0],
            "timescaledb": tsdb,
            "migrations": [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
            if conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone()[0] else [],
            "database_settings": [s for (s,) in conn.execute(_DB_SETTINGS)
                                  if s.split("=", 1)[0] not in TRANSIENT_SETTINGS],
            "roles": [r[0] for r in conn.execute(_ACL_ROLES)],
            "rows": _row_counts(conn),
        }
        pg_dump = _tool("pg_dump", conn.info.server_version)
        res = subprocess.run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}",
                              f"--dbname={psycopg.conninfo.make_conninfo(**parts)}"],
                             env=env, capture_output=True, text=True)
        conn.execute("ROLLBACK")
    if res.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {_scrub(res.stderr)}")
    partial.rename(path)
    manifest["archive"] = {"file": path.name, "bytes": path.stat().st_size, "sha256": _sha256(path)}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup at {path}" + (" (a folder, not a file)" if path.is_dir() else ""))
    manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise BackupError(f"no manifest {manifest_path} beside {path}: `vigil backup` writes both; "
                          "keep them together") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BackupError(f"{manifest_path} is not a backup manifest (not JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{manifest_path} is not a {FORMAT} manifest")
    archive = manifest.get("archive", {})
    if archive.get("sha256") != _sha256(path):
        raise BackupError(f"{path} does not match its manifest (SHA-256 differs): damaged or replaced")
    return manifest


def _open_target(url: str, setting: str) -> psycopg.Connection:
    """A connection to the target database, created first if it does not exist."""
    try:
        return psycopg.connect(url, connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as exc:
        if exc.sqlstate != "3D000" and "does not exist" not in str(exc):  # invalid_catalog_name
            raise BackupError(f"cannot reach the database at {safe_dsn(url)} ({setting}): {_scrub(str(exc))}") \
                from None
    except psycopg.ProgrammingError:
        raise BackupError(f"{setting} is not a valid connection string") from None
    parts, _ = _conninfo(url, setting)
    name = parts.get("dbname") or parts.get("user")
    with _connect(psycopg.conninfo.make_conninfo(url, dbname="postgres"), setting, autocommit=True) as admin:
        admin.execute(q.SQL("CREATE DATABASE {}").format(q.Identifier(name)))
    return _connect(url, setting, autocommit=True)


def _prepare_target(conn: psycopg.Connection, url: str, manifest: dict, privileges: bool) -> None:
    tables = conn.execute(_USER_TABLES).fetchone()[0]
    if tables:
        raise BackupError(f"the database at {safe_dsn(url)} is not empty ({tables} tables): "
                          "restore into a new or empty database")
    if privileges:
        existing = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
        missing = [r for r in manifest["roles"] if r not in existing]
        if missing:
            raise BackupError(f"the backup grants privileges to roles this server does not have: "
                              f"{', '.join(missing)}; create them first, or pass --no-privileges "
                              "(see docs/backup.md)")
    wanted = manifest["timescaledb"]
    available = [r[0] for r in conn.execute(
        "SELECT version FROM pg_available_extension_versions WHERE name = 'timescaledb'")]
    if wanted not in available:
        raise BackupError(f"the backup needs TimescaleDB {wanted}; this server has "
                          f"{', '.join(available) or 'none'}: install {wanted} (a restore needs the same version)")
    installed = _timescaledb_version(conn)
    if installed is None:
        conn.execute(q.SQL("CREATE EXTENSION timescaledb VERSION {}").format(q.Literal(wanted)))
    elif installed != wanted:
        raise BackupError(f"the database has TimescaleDB {installed}, the backup needs {wanted}")


def restore(url: str, path: Path, privileges: bool = True, setting: str = "VIGIL_DATABASE_URL") -> dict:
    """Restore a `vigil backup` archive into the empty (or missing) database at url, then
    check every table's row count against the manifest. Returns what was restored."""
    manifest = read_manifest(path)
    parts, env = _conninfo(url, setting)
    with _open_target(url, setting) as conn:
        _prepare_target(conn, url, manifest, privileges)
        pg_restore = _tool("pg_restore", conn.info.server_version)
        conn.execute("SELECT timescaledb_pre_restore()")
        try:
            res = subprocess.run([pg_restore, "--exit-on-error", "--no-owner",
                                  *([] if privileges else ["--no-privileges"]),
                                  f"--dbname={psycopg.conninfo.make_conninfo(**parts)}", str(path)],
                                 env=env, capture_output=True, text=True)
        finally:
            conn.execute("SELECT timescaledb_post_restore()")
        if res.returncode != 0:
            raise BackupError(f"pg_restore failed: {_scrub(res.stderr)}; the database at {safe_dsn(url)} "
                              "is partly restored: drop it before trying again")
        db = q.Identifier(conn.info.dbname)
        for setting_line in manifest["database_settings"]:
            name, _, value = setting_line.partition("=")
            conn.execute(q.SQL("ALTER DATABASE {} SET {} = {}").format(db, q.Identifier(*name.split(".")),
                                                                       q.Literal(value)))
        conn.execute("ANALYZE")
        rows = _row_counts(conn)
    differ = {t: (n, rows.get(t)) for t, n in manifest["rows"].items() if rows.get(t) != n}
    if differ:
        raise BackupError("restored row counts differ from the backup's: " +
                          ", ".join(f"{t} {got} of {want}" for t, (want, got) in sorted(differ.items())))
    return {"database": safe_dsn(url), "timescaledb": manifest["timescaledb"], "tables": len(rows),
            "rows": sum(rows.values()), "verified": True, "privileges": privileges,
            "backup_created_at": manifest["created_at"]}
