"""The API's Prometheus side: every request timed by method, route template and status, and
GET /metrics, the exposition of this process's metrics (vigil/metrics.py).

/metrics answers a request from loopback (a Prometheus on the same host; turned off with
VIGIL_API_METRICS_LOOPBACK=false when a local proxy forwards outside requests) or one that
brings the operator token; every other caller is refused. It is outside /api/v1: no API key
or user opens it, and it is left out of the OpenAPI document."""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotAuthorizedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.security import report
from vigil.metrics import API_REQUESTS
from vigil.operator import operator_token_matches

UNMATCHED = "unmatched"  # the route label of a path no route serves (bounded, unlike the path)
_children: dict[tuple[str, str, int], Any] = {}


def timed(app: ASGIApp) -> ASGIApp:
    """Wrap the app's whole request handling (routing and refusals included)."""
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app raises before answering, the server answers 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
        try:
            await app(scope, receive, send_status)
        finally:
            key = (scope["method"], scope.get("path_template") or UNMATCHED, status)
            child = _children.get(key)
            if child is None:
                child = _children[key] = API_REQUESTS.labels(*key)
            child.observe(time.perf_counter() - started)
    return handler


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@get("/metrics", operation_id="metrics", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def metrics(request: Request) -> Response[bytes]:
    settings = request.app.state.settings
    if not (settings.api_metrics_loopback and _loopback(request)):
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not operator_token_matches(token.strip(), settings.operator_token_hash):
            report("auth_failed", request.scope, reason="metrics without the operator token")
            raise NotAuthorizedException("/metrics answers loopback and the operator token only: "
                                         "send 'Authorization: Bearer <operator token>'")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
