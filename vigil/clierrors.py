"""What the `vigil` command says, in one line, about an error a user can fix: the database
is down or not migrated, a setting or an argument is invalid, a file cannot be written.
Anything else is a bug and keeps its traceback."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import psycopg
from psycopg import errors as pg
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError

from vigil.settings import Settings


def safe_dsn(dsn: str) -> str:
    """The DSN as user@host:port/dbname: never the password."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(an unparsable VIGIL_DATABASE_URL)"
    where = f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"
    return f"{parts['user']}@{where}" if parts.get("user") else where


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", str(exc)).strip()  # a password in a quoted URI
    return text.splitlines()[0] if text else type(exc).__name__


def _database_url() -> str | None:
    try:
        return Settings().database_url
    except ValidationError:
        return None


def _dsn() -> str:
    url = _database_url()
    return safe_dsn(url) if url is not None else "(unreadable settings)"


def _redis() -> str:
    try:
        parts = urlsplit(Settings().redis_url)
    except (ValidationError, ValueError):
        return "(unreadable VIGIL_REDIS_URL)"
    return f"{parts.hostname}:{parts.port or 6379}"


def _bad_dsn() -> bool:
    try:
        psycopg.conninfo.conninfo_to_dict(_database_url() or "")
    except psycopg.ProgrammingError:
        return True
    return False


def describe(exc: BaseException) -> str | None:
    """One line for an error the user can fix, else None."""
    if isinstance(exc, psycopg.OperationalError):  # PoolTimeout too
        return f"cannot reach the database at {_dsn()}: {_first_line(exc)}"
    if isinstance(exc, psycopg.IntegrityError | psycopg.DataError):
        where = exc.diag.constraint_name or exc.diag.column_name
        primary = exc.diag.message_primary or _first_line(exc)  # never the detail: it quotes rows
        return f"the database refused a value{f' ({where})' if where else ''}: {primary}"
    if isinstance(exc, RedisConnectionError):
        return f"cannot reach Redis at {_redis()}: {_first_line(exc)}"
    if isinstance(exc, pg.UndefinedTable):
        return f"the database at {_dsn()} has no Vigil tables ({_first_line(exc)}); run `vigil migrate`"
    if isinstance(exc, psycopg.ProgrammingError) and _bad_dsn():
        return f"VIGIL_DATABASE_URL is not a valid connection string: {_first_line(exc)}"
    if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
        fields = ", ".join("VIGIL_" + ".".join(str(p) for p in e["loc"]).upper() + f" ({e['msg']})"
                           for e in exc.errors())
        return f"invalid setting: {fields}"
    if isinstance(exc, ValueError) and not isinstance(exc, ValidationError):
        return _first_line(exc)
    if isinstance(exc, OSError):
        return str(exc)
    return None
