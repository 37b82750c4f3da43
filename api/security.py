"""Suspicious requests: failed authentication, 403, 429 and bursts of invalid requests, each
logged as one structured event on the ``vigil.security`` logger and counted in this process
(the counts are on /health). Every request carries an id: the client's ``X-Request-ID`` when it
sends a sane one, else a new one; it is echoed in the response and named in every event."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import Counter

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace

from vigil import logs, tracing
from vigil.metrics import API_REFUSED, REFUSAL_REASONS

log = logging.getLogger("vigil.security")

EVENTS: Counter[str] = Counter()
for _reason in REFUSAL_REASONS:  # exported at 0 from the start, so rates and alerts see them
    API_REFUSED.labels(_reason)
REQUEST_ID_HEADER = b"x-request-id"
TRACEPARENT_HEADER = b"traceparent"
_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
# A client address answered this many 4xx within BURST_WINDOW_SECONDS is logged once per window.
BURST_REQUESTS = 50
BURST_WINDOW_SECONDS = 60.0
_bursts: dict[str, tuple[float, int]] = {}


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def report(event: str, scope: Scope, key_prefix: str | None = None, **fields: object) -> None:
    EVENTS[event] += 1
    API_REFUSED.labels(event).inc()
    record = {"event": event, "key_prefix": key_prefix, "client": client_address(scope),
              "path": scope.get("path"), "request_id": request_id(scope), **fields}
    log.warning(" ".join(f"{k}={v}" for k, v in record.items() if v is not None), extra={"security": record})


def _count_invalid(scope: Scope) -> None:
    address, now = client_address(scope), time.monotonic()
    start, count = _bursts.get(address, (now, 0))
    if now - start >= BURST_WINDOW_SECONDS:
        start, count = now, 0
    count += 1
    if len(_bursts) > 10_000:
        _bursts.clear()
    _bursts[address] = (start, count)
    if count == BURST_REQUESTS:
        report("invalid_burst", scope, requests=count, window_s=int(BURST_WINDOW_SECONDS))


def request_id(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is sane, else a new id; the same for the whole request."""
    rid = scope.get("vigil.request_id")
    if rid is None:
        given = next((v for k, v in scope.get("headers", ()) if k == REQUEST_ID_HEADER), None)
        rid = given.decode() if given is not None and _SANE_ID.match(given) else uuid.uuid4().hex
        scope["vigil.request_id"] = rid  # type: ignore[typeddict-unknown-key]
    return rid


async def before_send(message: Message, scope: Scope) -> None:
    """The app's send hook (it sees every answer, also those of refused and unrouted requests):
    echo the request id and count 4xx answers per client address."""
    if message["type"] == "http.response.start":
        message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id(scope).encode())]
        if 400 <= message["status"] < 500:
            _count_invalid(scope)


def request_context(app: ASGIApp) -> ASGIApp:
    """Middleware: every line logged while a request is served carries its id; with tracing
    on, the request is a server span named by its route template (continuing the client's
    ``traceparent``), its SQL statements its children."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        rid = request_id(scope)
        with logs.bind(request_id=rid):
            if tracing.ENABLED:
                await _traced(app, scope, receive, send, rid)
            else:
                await app(scope, receive, send)

    return middleware


async def _traced(app: ASGIApp, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
    # Litestar's OpenTelemetry plugin (the generic ASGI instrumentation) cost 120-220 us per
    # request here even for unsampled requests, more than the request itself; this span
    # costs a few microseconds when it is not sampled (see tracing.sampled_span).
    parent = next((v.decode("latin-1") for k, v in scope["headers"] if k == TRACEPARENT_HEADER), None)
    route = scope.get("path_template") or scope["path"]
    with tracing.sampled_span(f"{scope['method']} {route}", parent=parent, span_kind=trace.SpanKind.SERVER,
                              **{"http.request.method": scope["method"], "http.route": route,
                                 "vigil.request_id": rid}) as span:
        if not span.is_recording():
            await app(scope, receive, send)
            return

        async def send_recording_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                span.set_attribute("http.response.status_code", message["status"])
                if message["status"] >= 500:
                    span.set_status(trace.StatusCode.ERROR)
            await send(message)

        await app(scope, receive, send_recording_status)
