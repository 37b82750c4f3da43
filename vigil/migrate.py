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
