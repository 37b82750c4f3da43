"""The schema snapshot, sql/schema.sql: everything a freshly migrated database holds in its
public schema (pg_dump --schema-only, normalised so it is stable), for reading the whole
schema in one place and for the tests that compare a migrated database with it. A reference,
not a way to create a database: `vigil migrate` is. After changing a migration or a
functions file, rewrite it from the source tree:

    python -m vigil.schema            # starts a throwaway PostgreSQL, migrates it, writes the file
    python -m vigil.schema --check    # exit status 1 and a diff when the file is out of date
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import subprocess
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

from vigil.devcluster import Postgres, free_port, pg_bindir
from vigil.migrate import migrate
from vigil.settings import Settings

SNAPSHOT = files("sql") / "schema.sql"
WRITE_COMMAND = "python -m vigil.schema"
HEADER = (f"-- Written by `{WRITE_COMMAND}` from a freshly migrated database; do not edit.\n"
          "-- Tables come from the numbered migrations, functions, views and triggers from\n"
          "-- sql/functions/ (docs/sql.md).\n")
# Lines of a dump that vary with the pg_dump version or run, not with the schema.
_VARYING = re.compile(r"^(\\restrict |\\unrestrict |SET |SELECT pg_catalog\.set_config\(|-- Dumped (from|by) )")


def normalise(dump: str) -> str:
    lines = [line.rstrip() for line in dump.splitlines() if not _VARYING.match(line)]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return HEADER + "\n" + text + "\n"


def dump(dsn: str) -> str:
    """The normalised schema of the database at dsn (its public schema: TimescaleDB's own
    schemas, chunks included, are left out; so are owners and grants, which vary by site)."""
    out = subprocess.run(
        [str(pg_bindir() / "pg_dump"), "--schema-only", "--schema=public", "--no-owner",
         "--no-privileges", "--no-tablespaces", "--dbname", dsn],
        capture_output=True, text=True, check=True).stdout
    return normalise(out)


def fresh_schema() -> str:
    """Migrate a throwaway PostgreSQL+TimescaleDB and dump it."""
    root = Path(tempfile.mkdtemp(prefix="vigil-schema-pg-"))
    root.chmod(0o755)
    server = Postgres(root / "data", free_port(), durable=False)
    try:
        server.start()
        migrate(Settings(database_url=server.dsn))
        return dump(server.dsn)
    finally:
        server.destroy()
        shutil.rmtree(root, ignore_errors=True)


def diff(expected: str, actual: str, limit: int = 80) -> str:
    lines = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                      "sql/schema.sql", "migrated database", lineterm="", n=2))
    more = f"\n... {len(lines) - limit} more lines" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=WRITE_COMMAND, description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    actual = fresh_schema()
    if args.check:
        expected = SNAPSHOT.read_text() if SNAPSHOT.is_file() else ""
        if expected == actual:
            print("sql/schema.sql is up to date")
            return 0
        print(diff(expected, actual))
        print(f"sql/schema.sql is out of date: run `{WRITE_COMMAND}` and commit it", file=sys.stderr)
        return 1
    Path(str(SNAPSHOT)).write_text(actual)
    print(f"wrote {SNAPSHOT} ({len(actual.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
