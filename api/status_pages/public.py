"""The public side: status pages (HTML, JSON, Atom) and badges, without an API key.

    /status/{slug}           the page; .json the same data; /feed.atom (or .atom) the incidents
    /status/{link}           a link page, at its unguessable address (spl_...)
    /                        on a page's custom domain (the request's Host), that page
    /badge/{token}/{kind}    a monitor's badge by its badge token (bdg_...)
    /badge/{slug}/{key}/{kind}  the badge of a monitor on a public page
    kind: status.svg, uptime.svg?window=30d, p95.svg?window=24h

Every answer comes from the short public cache (api/status_pages/cache.py), so a busy page
costs the database one snapshot per cache period. Rate limits per client address apply
(api/ratelimit.py: requests without a key). Unknown pages and badges, and pages of another
visibility, answer the same 404."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery
from litestar.types import Scope

from aggregator.windows import window_stats
from api.errors import NotFound
from api.stats.figures import ms
from api.stats.service import reading
from api.stats.window import PRESETS, parse_window
from api.status_pages import render
from api.status_pages.cache import answers
from api.status_pages.schemas import SLUG
from api.status_pages.service import BADGE_PREFIX, LINK_PREFIX
from api.status_pages.snapshot import current_slots, page_snapshot
from vigil.accounts import hash_secret
from vigil.queries import sql

_SLUG = re.compile(SLUG)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
FORMATS = {".json": "json", ".atom": "atom"}
MEDIA = {"html": "text/html; charset=utf-8", "json": "application/json",
         "atom": "application/atom+xml; charset=utf-8", "svg": "image/svg+xml"}
BADGE_KINDS = ("status.svg", "uptime.svg", "p95.svg")
PUBLIC = {"exclude_from_auth": True, "include_in_schema": False}
Answer = tuple[bytes, bytes]  # (body, gzip of it)


def _page_query(key: str) -> tuple[str, dict[str, Any]] | None:
    """The statement finding the page a path names, or None for a name no page can have."""
    if key.startswith(LINK_PREFIX) and _TOKEN.match(key[len(LINK_PREFIX):]):
        return "status_page_by_link", {"token_hash": hash_secret(key)}
    if _SLUG.match(key):
        return "status_page_by_slug", {"slug": key}
    return None


async def _find(request: Request, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    async with reading(request.app.state.pool) as conn:
        return await (await conn.execute(sql(query), params)).fetchone()


def _both(body: bytes | None) -> Answer | None:
    """The body and its gzip form, made once per cached answer (a page is mostly repeated
    markup: about a tenth of its size compressed)."""
    return None if body is None else (body, gzip.compress(body, 6))


def delivery(scope: Scope, answer: Answer, fmt: str, private: bool, accept_encoding: str) -> tuple[bytes, dict[str, str]]:
    """The body to send and its headers, for the handlers here and for the middleware that
    answers fresh cached pages before the others (shortcut.py)."""
    seconds = int(scope["litestar_app"].state.settings.status_cache_seconds)
    headers = {"content-type": MEDIA[fmt], "cache-control": f"{'private' if private else 'public'}, max-age={seconds}",
               "vary": "Accept-Encoding"}
    body = answer[0]
    if "gzip" in accept_encoding:
        body, headers["content-encoding"] = answer[1], "gzip"
    if private:
        headers["x-robots-tag"] = "noindex"
    if fmt == "html":
        scope["vigil.csp"] = render.PAGE_POLICY  # type: ignore[typeddict-unknown-key]
    return body, headers


def _respond(request: Request, answer: Answer | None, fmt: str, private: bool = False) -> Response:
    if answer is None:
        raise NotFound("no such status page")
    body, headers = delivery(request.scope, answer, fmt, private, request.headers.get("accept-encoding", ""))
    return Response(body, headers=headers)  # the content type given, as is


def page_format(name: str) -> tuple[str, str]:
    """(page key, format) of the last part of a /status/ path."""
    for suffix, fmt in FORMATS.items():
        if name.endswith(suffix):
            return name[:-len(suffix)], fmt
    return name, "html"


def page_answer_key(key: str, fmt: str) -> tuple[str, str, str]:
    """The public cache's key of a page's answer in a format."""
    return ("page", key, fmt)


async def _page(request: Request, key: str, fmt: str) -> Response:
    found = _page_query(key)
    if found is None:
        raise NotFound("no such status page")
    app, base = request.app, f"/status/{key}"

    async def compute() -> Answer | None:
        page = await _find(request, *found)
        if page is None:
            return None
        snapshot = await app.state.reads.run(lambda pool: page_snapshot(pool, page))
        if fmt == "json":
            return _both(render.json(snapshot))
        if fmt == "atom":
            return _both(render.atom(app, snapshot, page["id"], base))
        return _both(render.html(app, snapshot, base))
    answer = await answers(app).get(page_answer_key(key, fmt), compute)
    return _respond(request, answer, fmt, private=key.startswith(LINK_PREFIX))


@get("/status/{name:str}", **PUBLIC)
async def status_page(request: Request, name: FromPath[str]) -> Response:
    return await _page(request, *page_format(name))


@get("/status/{name:str}/feed.atom", **PUBLIC)
async def status_feed(request: Request, name: FromPath[str]) -> Response:
    return await _page(request, name, "atom")


@get("/", **PUBLIC)
async def custom_domain(request: Request) -> Response:
    """A public page on its own domain: the Host header names it."""
    host = (request.headers.get("host") or "").rsplit(":", 1)[0].lower().rstrip(".")
    if not host or len(host) > 253:
        raise NotFound("no such status page")
    app = request.app

    async def compute() -> Answer | None:
        page = await _find(request, "status_page_by_domain", {"domain": host})
        if page is None:
            return None
        snapshot = await app.state.reads.run(lambda pool: page_snapshot(pool, page))
        return _both(render.html(app, snapshot, f"/status/{page['slug']}"))
    return _respond(request, await answers(app).get(("domain", host), compute), "html")


async def _badge_value(request: Request, monitor: dict[str, Any], kind: str, window: str) -> tuple[str, str, str]:
    """(label, value, colour) of a badge."""
    now = datetime.now(UTC)
    async with reading(request.app.state.pool) as conn:
        if kind == "status.svg":
            row = (await current_slots(conn, [monitor["monitor_id"]], now, monitor["interval_s"])).get(
                monitor["monitor_id"])
            status = row["status"] if row else "unknown"
            return "status", {"up": "up", "down": "down"}.get(status, "unknown"), \
                {"up": "green", "down": "red"}.get(status, "grey")
        w = parse_window(window, None, None, now)
        stats = await window_stats(conn, [monitor["monitor_id"]], w.start, w.end)
    s = stats[0] if stats else None
    if kind == "uptime.svg":
        up = None if s is None or s["uptime"] is None else 100 * s["uptime"]
        colour = "grey" if up is None else "green" if up >= 99.9 else "yellow" if up >= 99 else "red"
        return f"uptime {window}", render.percent(up), colour
    p95 = None if s is None else ms(s["latency_p95_us"])
    return f"p95 {window}", "no data" if p95 is None else f"{p95:.0f} ms", "grey" if p95 is None else "blue"


async def _badge(request: Request, query: str, params: dict[str, Any], kind: str, window: str | None) -> Response:
    if kind not in BADGE_KINDS:
        raise NotFound(f"no such badge: {kind!r} (one of {', '.join(BADGE_KINDS)})")
    window = window or ("24h" if kind == "p95.svg" else "30d")
    if window not in PRESETS:
        raise ValidationException(f"invalid value for window: {window!r} is not one of {', '.join(PRESETS)}")
    app = request.app

    async def compute() -> Answer | None:
        monitor = await _find(request, query, params)
        if monitor is None:
            return None
        return _both(render.badge(app, *await _badge_value(request, monitor, kind, window)))
    answer = await answers(app).get(("badge", query, tuple(params.values()), kind, window), compute)
    if answer is None:
        raise NotFound("no such badge")
    return _respond(request, answer, "svg")


@get("/badge/{token:str}/{kind:str}", **PUBLIC)
async def badge_by_token(request: Request, token: FromPath[str], kind: FromPath[str],
                         window: FromQuery[str | None] = None) -> Response:
    if not (token.startswith(BADGE_PREFIX) and _TOKEN.match(token[len(BADGE_PREFIX):])):
        raise NotFound("no such badge")
    return await _badge(request, "badge_by_token", {"token_hash": hash_secret(token)}, kind, window)


@get("/badge/{slug:str}/{key:str}/{kind:str}", **PUBLIC)
async def badge_on_page(request: Request, slug: FromPath[str], key: FromPath[str], kind: FromPath[str],
                        window: FromQuery[str | None] = None) -> Response:
    if not (_SLUG.match(slug) and _SLUG.match(key)):
        raise NotFound("no such badge")
    return await _badge(request, "badge_by_page", {"slug": slug, "key": key}, kind, window)


PUBLIC_HANDLERS = [status_page, status_feed, custom_domain, badge_by_token, badge_on_page]
