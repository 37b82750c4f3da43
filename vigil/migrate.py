"""Apply the numbered plain-SQL migrations in sql/ in order, each once, each in its own
transaction, recorded in schema_migrations. Safe to re-run and to run concurrently
(an advisory lock serialises migrators)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import psycopg

from vigil.settings import Settings

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MIGRATION_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
LOCK_ID = 0x56494731  # "VIG1"


def migration_files() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(SQL_DIR.iterdir()):
        m = MIGRATION_RE.match(path.name)
        if m:
            found.append((path.stem, path))
    versions = [m[0][:4] for m in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a number in {SQL_DIR}: {versions}")
    return found


def migrate(settings: Settings) -> list[str]:
    """Apply pending migrations; return the names applied."""
    applied: list[str] = []
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
            for name, path in migration_files():
                if name in done:
                    continue
                log.info("applying migration %s", name)
                with conn.transaction():
                    conn.execute("SELECT set_config('vigil.chunk_interval', %s, true)",
                                 (settings.chunk_interval,))
                    conn.execute("SELECT set_config('vigil.hash_partitions', %s, true)",
                                 (str(settings.hash_partitions),))
                    conn.execute(path.read_text())
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
                applied.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    return applied


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
