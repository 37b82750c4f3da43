"""Named SQL: every query lives in sql/queries/*.sql under a ``-- name: <name>`` header
and is looked up by name, so the same statement is never written twice in Python. The files
are package data of the `sql` package, found without the source tree."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

QUERY_DIR = files("sql") / "queries"
_HEADER = re.compile(r"^--\s*name:\s*([a-z0-9_]+)\s*$", re.MULTILINE)
# The comment lines a query opens with stay in the file: the statement sent starts with its
# first keyword, which is what names its trace span and its line in pg_stat_activity.
_LEADING_COMMENTS = re.compile(r"\A(?:\s*--[^\n]*\n)+")


@lru_cache(maxsize=1)
def _all() -> dict[str, str]:
    queries: dict[str, str] = {}
    for path in sorted((p for p in QUERY_DIR.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name):
        parts = _HEADER.split(path.read_text())
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            if name in queries:
                raise RuntimeError(f"query {name!r} defined twice (second in {path.name})")
            queries[name] = _LEADING_COMMENTS.sub("", body.strip()).strip().rstrip(";")
    return queries


def sql(name: str) -> str:
    try:
        return _all()[name]
    except KeyError:
        raise KeyError(f"no named query {name!r} in {QUERY_DIR}") from None
