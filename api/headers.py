"""Headers every API response carries, errors and 404s included. The API serves JSON only
(the OpenAPI document too, with no HTML viewer), so the content security policy allows
nothing to load or frame it. A route serving a page may put its own policy in the request
scope ("vigil.csp"): the status pages allow their one inline stylesheet, by its hash. HSTS is sent only on a TLS request: over plain HTTP it would
be ignored, and behind a TLS-terminating proxy that proxy is the one to send it."""

from __future__ import annotations

from litestar.types import Message, Scope

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
)
CSP = b"content-security-policy"
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_REPLACED = {name for name, _ in SECURITY_HEADERS} | {HSTS[0], b"server"}


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A Litestar ``before_send`` hook: it sees every response the application sends."""
    if message["type"] != "http.response.start":
        return
    headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in _REPLACED]
    policy = scope.get("vigil.csp")
    headers.extend(SECURITY_HEADERS if policy is None else
                   [(k, policy if k == CSP else v) for k, v in SECURITY_HEADERS])
    if scope.get("scheme") == "https":
        headers.append(HSTS)
    message["headers"] = headers
