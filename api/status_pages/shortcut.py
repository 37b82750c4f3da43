"""Cached status pages answered before the middleware and the handler.

A busy page is answered from the public cache nearly every time, and then the framework's
work around the answer (the middleware stack, parameter parsing, the handler, the response
object) costs more than the answer. This middleware runs first, after Litestar's routing,
and answers a GET of a page, its JSON or its feed whose answer is cached, computed and
fresh: it counts the request against its client address as the rate-limit middleware does
(once: the verdict stays in the scope) and sends the bytes and headers the route sends
(public.delivery); the app's send hooks still add the request id and the security headers.
Everything else goes on unchanged: a miss, an expired answer (the route serves it while it
refreshes), a refusal (the rate-limit middleware answers 429 with that verdict), any other
route or method."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from api.ratelimit import address_verdict
from api.status_pages.cache import answers
from api.status_pages.public import delivery, page_answer_key, page_format, status_feed, status_page
from api.status_pages.service import LINK_PREFIX

_PAGE, _FEED = status_page.fn, status_feed.fn


def _page_of(scope: Scope) -> tuple[str, str] | None:
    """(page key, format) of a request for a page or its feed, else None."""
    fn = getattr(scope.get("route_handler"), "fn", None)  # the app holds copies of the handlers
    if fn is _PAGE:
        return page_format(scope["path_params"]["name"])
    if fn is _FEED:
        return scope["path_params"]["name"], "atom"
    return None


async def _answer(scope: Scope, send: Send, key: str, fmt: str) -> bool:
    """Send the cached answer; False when there is none to send here."""
    app = scope["litestar_app"]
    answer = answers(app).fresh(page_answer_key(key, fmt))
    if answer is None:  # not cached, expired, still being computed, or no such page
        return False
    limits = app.state.get("rate_limits")
    verdict = await address_verdict(limits, scope) if limits is not None else None
    if verdict is not None and verdict.retry_after:
        return False
    accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept-encoding"), "")
    body, headers = delivery(scope, answer, fmt, key.startswith(LINK_PREFIX), accept)
    raw = [(b"content-length", str(len(body)).encode()), *((k.encode(), v.encode()) for k, v in headers.items()),
           *(verdict.raw_headers() if verdict else ())]
    await send({"type": "http.response.start", "status": 200, "headers": raw})
    await send({"type": "http.response.body", "body": body})
    return True


def cached_pages(app: ASGIApp) -> ASGIApp:
    """Middleware, first in the app's list."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = _page_of(scope)
            if found is not None and await _answer(scope, send, *found):
                return
        await app(scope, receive, send)
    return middleware
