"""The one place domain errors become HTTP responses."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException
from pydantic import ValidationError

log = logging.getLogger(__name__)


class NotFound(Exception):
    """The thing does not exist, or belongs to another account (never say which)."""


class Conflict(Exception):
    pass


class Unavailable(Exception):
    """A dependency (database, Redis) is unreachable; the client may retry."""


def _body(status: int, detail: str, extra: list | None = None) -> Response:
    content: dict = {"status_code": status, "detail": detail}
    if extra:
        content["extra"] = extra
    return Response(content, status_code=status)


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


def internal(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _body(exc.status_code, exc.detail, exc.extra if isinstance(exc.extra, list) else None)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _body(500, "internal error; see the server log")


HANDLERS = {
    ValidationError: validation_error,
    NotFound: not_found,
    Conflict: conflict,
    Unavailable: unavailable,
}
