"""The one place domain errors become HTTP responses."""

from __future__ import annotations

import logging

import psycopg
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from psycopg import errors as pg
from pydantic import ValidationError

log = logging.getLogger(__name__)


class NotFound(Exception):
    """The thing does not exist, or belongs to another account (never say which)."""


class Conflict(Exception):
    pass


class Unavailable(Exception):
    """A dependency (database, Redis) is unreachable; the client may retry."""


def _body(status: int, detail: str, extra: list | None = None, headers: dict | None = None) -> Response:
    content: dict = {"status_code": status, "detail": detail}
    if extra:
        content["extra"] = extra
    return Response(content, status_code=status, headers=headers)


def field_error(_: Request, exc: Exception) -> Response:
    """400 for a domain error that names the field it is about (``exc.field``)."""
    return _body(400, str(exc), [{"key": getattr(exc, "field", None), "message": str(exc)}])


def validation_error(_: Request, exc: ValidationError) -> Response:
    extra = [{"key": ".".join(str(p) for p in e["loc"]) or None, "message": e["msg"]} for e in exc.errors()]
    fields = ", ".join(x["key"] for x in extra if x["key"]) or "body"
    return _body(400, f"invalid value for {fields}", extra)


def not_found(_: Request, exc: NotFound) -> Response:
    return _body(404, str(exc) or "not found")


def conflict(_: Request, exc: Conflict) -> Response:
    return _body(409, str(exc))


def unavailable(_: Request, exc: Unavailable) -> Response:
    return _body(503, str(exc))


def _field(exc: psycopg.Error) -> str | None:
    """The column a database error is about: named by PostgreSQL, or by a constraint that
    follows its default naming (``<table>_<column>_check``)."""
    diag = exc.diag
    if diag.column_name:
        return diag.column_name
    name, table = diag.constraint_name or "", diag.table_name or ""
    for suffix in ("_check", "_fkey", "_key"):
        if table and name.startswith(table + "_") and name.endswith(suffix):
            return name[len(table) + 1:-len(suffix)]
    return None


def _reason(exc: psycopg.Error) -> str:
    # The primary message only: the detail line may quote the stored values.
    return exc.diag.message_primary or str(exc).splitlines()[0]


def bad_data(request: Request, exc: psycopg.Error) -> Response:
    """A value the database refuses (out of range, NUL in text, a CHECK): the client's to fix.
    The handlers validate first; this is the safety net for what validation missed."""
    log.warning("database refused a value on %s %s: %s", request.method, request.url.path, _reason(exc))
    field = _field(exc)
    return _body(400, f"invalid value{f' for {field}' if field else ''}: {_reason(exc)}")


def integrity(request: Request, exc: psycopg.IntegrityError) -> Response:
    if isinstance(exc, pg.CheckViolation | pg.NotNullViolation):
        return bad_data(request, exc)
    field = _field(exc)
    log.warning("integrity conflict on %s %s: %s", request.method, request.url.path, _reason(exc))
    return _body(409, f"conflict{f' on {field}' if field else ''}: {_reason(exc)}")


def database_down(request: Request, exc: psycopg.OperationalError) -> Response:
    log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return _body(503, "the database is unavailable; retry later")


def too_deep(request: Request, exc: RecursionError) -> Response:
    """msgspec decodes JSON recursively and raises RecursionError (not a decode error) for a
    body nested a few thousand levels deep: the client's input, not a server fault."""
    log.warning("recursion limit on %s %s: %s", request.method, request.url.path, exc)
    return _body(400, "the request body is nested too deeply")


def not_utf8(request: Request, exc: UnicodeDecodeError) -> Response:
    return _body(400, f"the request body is not valid UTF-8 (byte {exc.start})")


def _named(exc: HTTPException) -> str:
    """Litestar's own parameter/body validation says only "Validation failed for <method> <url>";
    name the fields and the first reason instead (the list stays in ``extra``)."""
    if not (isinstance(exc, ValidationException) and exc.detail.startswith("Validation failed for")
            and isinstance(exc.extra, list) and exc.extra):
        return exc.detail
    keys = [str(e["key"]) for e in exc.extra if isinstance(e, dict) and e.get("key")]
    first = exc.extra[0].get("message", "") if isinstance(exc.extra[0], dict) else ""
    return f"invalid value for {', '.join(dict.fromkeys(keys)) or 'body'}: {first}".rstrip(": ")


def internal(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _body(exc.status_code, _named(exc), exc.extra if isinstance(exc.extra, list) else None,
                     exc.headers)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _body(500, "internal error; see the server log")


HANDLERS = {
    ValidationError: validation_error,
    NotFound: not_found,
    Conflict: conflict,
    Unavailable: unavailable,
    psycopg.DataError: bad_data,
    psycopg.IntegrityError: integrity,
    # PoolTimeout (no connection within the pool's timeout) is an OperationalError too.
    psycopg.OperationalError: database_down,
    RecursionError: too_deep,
    UnicodeDecodeError: not_utf8,
}
