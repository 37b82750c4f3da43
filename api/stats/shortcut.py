"""Cached stats answers sent before Litestar's route handling.

Dashboards ask the same questions over and over, so most stats requests find their answer
in the cache (api/stats/cache.py), and then Litestar's work around the answer (the guard,
parameter parsing, the handler call, the response object) costs more than the answer.
This middleware runs last, after authentication and the rate limit, and sends a cached
answer the handler would send at once (fresh, or expired while its refresh already runs)
to a GET of a stats route itself: the body and headers the handler sends, to which the
rate-limit middleware and the app's send hooks add theirs on the way out, as for every
answer.

It answers only a question the handler has answered and cached: the key is built from the
query as the handler builds it (ANSWER_QUERIES), and a value the handler might read
otherwise (a number that is not plain digits) is left to the handler. Everything else goes
on unchanged: a miss, an expired answer nobody refreshes yet (the handler serves it and
starts the refresh), a principal whose scope does not cover the route (the guard refuses
it), any other route."""

from __future__ import annotations

import re

# The query parser Litestar itself uses (cached per query string): the same values, the
# last of a repeated name winning, as the handlers receive them.
from litestar._parsers import parse_query_string
from litestar.types import ASGIApp, Receive, Scope, Send

from api.scopes import needed_scope
from api.stats.controllers import ANSWER_QUERIES, answer_key
from vigil.accounts import scope_covers

_PLAIN_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
_JSON = (b"content-type", b"application/json")


def _query(scope: Scope, operation_id: str) -> dict | None:
    """The handler's query values for this request, or None when one is left to the handler."""
    given = dict(parse_query_string(scope["query_string"]))
    values = {}
    for name, default in ANSWER_QUERIES[operation_id]:
        value = given.get(name, default)
        if isinstance(default, int) and value is not default:
            if not _PLAIN_NUMBER.fullmatch(value):
                return None
            value = int(value)
        values[name] = value
    return values


def ready_answer(scope: Scope) -> bytes | None:
    """The cached answer to a stats GET that the handler would send at once, else None."""
    operation_id = getattr(scope.get("route_handler"), "operation_id", None)
    if operation_id not in ANSWER_QUERIES or scope["method"] != "GET":
        return None
    principal = scope.get("user")
    if principal is None or not scope_covers(principal.scope, needed_scope("GET", operation_id)):
        return None
    cache = getattr(scope["litestar_app"].state, "stats_cache", None)
    query = _query(scope, operation_id) if cache is not None else None
    if query is None:
        return None
    return cache.ready(answer_key(principal.account_id, operation_id, scope["path_params"].get("monitor_id"), query))


def cached_stats(app: ASGIApp) -> ASGIApp:
    """Middleware, last in the app's list."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        body = ready_answer(scope) if scope["type"] == "http" else None
        if body is None:
            await app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [_JSON, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    return middleware
