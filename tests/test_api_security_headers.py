"""Every response carries the security headers, no server banner, and the OpenAPI document
is served as JSON only (no HTML viewer loading remote scripts)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.services import running
from vigil.devcluster import free_port, wait_for_port

EXPECTED = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def _get(url: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.mark.timeout(60)
def test_the_api_as_started_sends_security_headers_and_no_server_banner(settings, account):
    port = free_port()
    with running(settings, ["api", "--port", str(port)]):
        wait_for_port(port, timeout=30)
        base = f"http://127.0.0.1:{port}/api/v1"
        for url, token, status in ((f"{base}/health", None, 200), (f"{base}/monitors", account[1], 200),
                                   (f"{base}/monitors", None, 401), (f"{base}/nowhere", account[1], 404),
                                   (f"{base}/schema/openapi.json", None, 200)):
            got, headers, _ = _get(url, token)
            assert got == status, url
            assert "server" not in headers, (url, headers)
            for name, value in EXPECTED.items():
                assert headers.get(name) == value, (url, name, headers)
            assert "default-src 'none'" in headers["content-security-policy"]
            assert "strict-transport-security" not in headers  # plain HTTP
        for viewer in ("/schema", "/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc"):
            got, headers, body = _get(base + viewer)
            assert b"<script" not in body and b"cdn." not in body, viewer
            assert got == 404 or "json" in headers["content-type"], viewer


async def test_hsts_only_on_a_tls_request(settings):
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    async with AsyncTestClient(app=create_app(settings), base_url="https://testserver.local") as tls:
        r = await tls.get("/api/v1/health")
        assert r.headers["strict-transport-security"].startswith("max-age=")
    async with AsyncTestClient(app=create_app(settings)) as plain:
        r = await plain.get("/api/v1/health")
        assert "strict-transport-security" not in r.headers and r.headers["x-frame-options"] == "DENY"
