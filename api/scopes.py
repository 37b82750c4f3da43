"""Who may call what: the one rule for which key scope each API operation needs.

A read key may call every GET; a write key may also change monitors, rules, maintenance
windows, heartbeat tokens and the like; an admin key may also change account-wide settings:
where notifications go (channels), who holds keys, and the operators' views listed in
ADMIN_OPERATIONS. One guard on the API router applies the rule to every route, and
`python -m api.scopes` prints the table docs/api.md shows ("API keys and scopes")."""

from __future__ import annotations

import re
import sys

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from api.security import report
from vigil.accounts import SCOPES, scope_covers
from vigil.constants import API_PREFIX

READ, WRITE, ADMIN = SCOPES
_PATH_TYPE = re.compile(r"{(\w+):\w+}")
READ_METHODS = frozenset({"GET", "HEAD"})
ADMIN_OPERATIONS = frozenset({
    "createChannel", "updateChannel", "deleteChannel", "testChannel",
    "createKey", "listKeys", "revokeKey",
    "listDeadLetters",
})


def needed_scope(method: str, operation_id: str) -> str:
    if operation_id in ADMIN_OPERATIONS:
        return ADMIN
    return READ if method.upper() in READ_METHODS else WRITE


def _refuse(connection: ASGIConnection, needed: str) -> None:
    principal = connection.scope.get("user")
    if principal is None:
        # The authentication middleware lets OPTIONS (CORS preflight) through without a key;
        # it only lists the allowed methods.
        if connection.scope["method"] == "OPTIONS":
            return
        raise NotAuthorizedException("missing API key: send 'Authorization: Bearer <key>'")
    if not scope_covers(principal.scope, needed):
        report("forbidden", connection.scope, principal.key_prefix, needed=needed, held=principal.scope)
        raise PermissionDeniedException(
            f"this needs a key or user with the {needed!r} scope; this {'user' if principal.user_id else 'key'}"
            f"'s scope is {principal.scope!r}")


async def scope_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The API router's guard: the scope ``needed_scope`` names for this operation. A
    coroutine function, because Litestar runs a plain function guard in a worker thread:
    the hop to the thread and back cost more than the whole check."""
    if handler.opt.get("exclude_from_auth"):
        return
    _refuse(connection, needed_scope(connection.scope["method"], str(handler.operation_id)))


def scope_table(app: Litestar) -> list[tuple[str, str, str, str]]:
    """(method, path, operation id, scope) of every API operation; scope "none" for the routes
    that take no key (health, heartbeat pings, sign-in), "operator" for those only the
    operator token opens."""
    rows = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not handler.include_in_schema or handler.operation_id is None:
                continue  # the OpenAPI document's own routes
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                op = str(handler.operation_id)
                if route.path.startswith(f"{API_PREFIX}/operator/"):
                    scope = "operator"
                elif handler.opt.get("exclude_from_auth"):
                    scope = "none"
                else:
                    scope = needed_scope(method, op)
                rows.append((method, _PATH_TYPE.sub(r"{\1}", route.path), op, scope))
    return sorted(rows, key=lambda r: (r[1], r[0]))


def markdown_table(app: Litestar) -> str:
    lines = ["| operation | method | path | scope |", "| --- | --- | --- | --- |"]
    lines += [f"| {op} | {method} | `{path}` | {scope} |" for method, path, op, scope in scope_table(app)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from api.app import create_app
    from vigil.settings import Settings

    sys.stdout.write(markdown_table(create_app(Settings())))
