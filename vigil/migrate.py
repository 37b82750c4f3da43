"""Apply the schema. First the numbered plain-SQL migrations in sql/ (tables, types,
indexes, data changes), each once, recorded in schema_migrations; then, on every run, every
file of sql/functions/ in FUNCTION_FILES order: all functions, views and triggers, each file
re-runnable (CREATE OR REPLACE), so a database ends with the current definitions whichever
migrations made it. All of it in one transaction, so no service ever sees tables of one
version with functions of another. Safe to re-run and to run concurrently (an advisory lock
serialises migrators). The SQL is package data (the `sql` package), found without the
source tree."""

from __future__ import annotations

import logging
import re
from importlib.resources import files
from importlib.resources.abc import Traversable

import psycopg

from vigil.settings import Settings

log = logging.getLogger(__name__)

SQL_DIR = files("sql")
MIGRATION_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
LOCK_ID = 0x56494731  # "VIG1"

# The functions files in the order they are applied: a file may use what an earlier one
# defines (SQL-language bodies are checked against existing objects when created).
FUNCTION_FILES = (
    "histogram.sql",    # packed entries, bounds, merge, quantiles
    "slots.sql",        # the per-row and per-slot rules, slot readers
    "maintenance.sql",  # maintenance occurrences; slots they exclude (uses slots.sql)
    "retention.sql",    # retention horizons
    "windows.sql",      # window statistics (histogram.sql, slots.sql, retention.sql)
    "late_rows.sql",    # triggers on check_results (retention.sql)
    "schedule.sql",     # trigger on monitors
    "alerts.sql",       # rule targets (maintenance.sql)
)


def migration_files() -> list[tuple[str, Traversable]]:
    found = []
    for path in sorted(SQL_DIR.iterdir(), key=lambda p: p.name):
        m = MIGRATION_RE.match(path.name)
        if m:
            found.append((path.name.removesuffix(".sql"), path))
    versions = [m[0][:4] for m in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a number in {SQL_DIR}: {versions}")
    return found


def function_files() -> list[Traversable]:
    """The functions files in FUNCTION_FILES order; a file there but not listed is refused,
    so none is silently left out."""
    folder = SQL_DIR / "functions"
    present = {p.name for p in folder.iterdir() if p.name.endswith(".sql")}
    if present != set(FUNCTION_FILES):
        raise RuntimeError(f"{folder} holds {sorted(present)}, but FUNCTION_FILES in vigil/migrate.py "
                           f"lists {sorted(FUNCTION_FILES)}: list each file once, in order")
    return [folder / name for name in FUNCTION_FILES]


def migrate(settings: Settings, up_to: str | None = None) -> list[str]:
    """Apply pending migrations, then the functions files; return the migrations applied.
    up_to (a number such as "0015") stops after that migration and applies no functions
    file, since those are written for the latest tables: for tests of the upgrade path."""
    applied: list[str] = []
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
            with conn.transaction():
                conn.execute("SELECT set_config('vigil.chunk_interval', %s, true)",
                             (settings.chunk_interval,))
                conn.execute("SELECT set_config('vigil.hash_partitions', %s, true)",
                             (str(settings.hash_partitions),))
                for name, path in migration_files():
                    if name in done or (up_to is not None and name[:4] > up_to):
                        continue
                    log.info("applying migration %s", name)
                    _run(conn, path)
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
                    applied.append(name)
                if up_to is None:
                    for path in function_files():
                        log.debug("applying functions %s", path.name)
                        _run(conn, path)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    return applied


def _run(conn: psycopg.Connection, path: Traversable) -> None:
    try:
        conn.execute(path.read_text())
    except psycopg.Error as exc:
        exc.add_note(f"while applying {path} (nothing was applied: the whole run rolled back)")
        raise


APP_ROLE = "vigil_app"
# What the services (API, scheduler, workers, evaluator, notifier) need and no more: no
# TRUNCATE, no DDL, no ownership. Default privileges cover objects later migrations create
# as the migrating role.
_APP_GRANTS = (
    "GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {role}",
)


def ensure_app_role(settings: Settings, password: str, role: str = APP_ROLE) -> None:
    """Create (or update) the services' login role: not a superuser, may not create roles or
    databases, with the grants above on everything the migrations made. Run as the
    migrating role after migrate(); safe to re-run."""
    from psycopg import sql as q

    if not password:
        raise ValueError(f"the {role} role needs a password")
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        try:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(q.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
                               " NOBYPASSRLS PASSWORD {}").format(q.Identifier(role), q.Literal(password)))
            db = conn.execute("SELECT current_database()").fetchone()[0]
            for grant in _APP_GRANTS:
                conn.execute(q.SQL(grant).format(db=q.Identifier(db), role=q.Identifier(role)))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
