"""The lean HTTP client against aiohttp: every case runs through both on real loopback
servers (plain, TLS with a trustme CA, redirects, slow, refused, chunked, keep-alive,
compressed, misbehaving) and must give the same CheckResult: up, error kind, status,
attempts, detail, and the same phases timed. Both event loops the project runs on are
used: asyncio's, and uvloop (the worker's) in a thread of its own."""
# ruff: noqa: F811 (pytest fixtures imported from tests/checks_fixtures.py)

from __future__ import annotations

import asyncio
import gzip
import ssl
import zlib
from collections.abc import AsyncIterator

import pytest
import uvloop
from aiohttp import web

from ingest.checks.base import CheckResult
from ingest.context import make_check_context
from ingest.runner import run_check
from tests.checks_fixtures import (  # noqa: F401 (fixtures)
    blackhole_port,
    ca,
    free_port,
    raw_servers,
    spec,
    tls_servers,
    web_server,
)
from vigil.constants import ErrorKind

pytestmark = pytest.mark.timeout(60)


class Clients:
    """A lean and an aiohttp-only check context, on the test's own event loop (asyncio's)
    or, as the worker runs them, on a uvloop of their own in a thread."""

    def __init__(self, loop_kind: str, allow_private: bool, trust: ssl.SSLContext | None) -> None:
        self.loop_kind, self.allow_private, self.trust = loop_kind, allow_private, trust
        self.lean = make_check_context(allow_private, tls_context=trust)  # only read, never run

    async def _both(self, target: str, timeout_ms: int, expectations: dict) -> tuple[CheckResult, CheckResult]:
        lean = make_check_context(self.allow_private, retry_base_s=0.01, tls_context=self.trust)
        plain = make_check_context(self.allow_private, retry_base_s=0.01, tls_context=self.trust, lean_http=False)
        assert lean.http_lean is not None and plain.http_lean is None
        try:
            return (await run_check(spec(target, timeout_ms=timeout_ms, **expectations), lean),
                    await run_check(spec(target, timeout_ms=timeout_ms, **expectations), plain))
        finally:
            await lean.http.close()
            await plain.http.close()
            await asyncio.sleep(0.05)  # closing handshakes finish before a thread's loop ends

    async def run(self, target: str, timeout_ms: int, expectations: dict) -> tuple[CheckResult, CheckResult]:
        if self.loop_kind == "uvloop":
            return await asyncio.to_thread(uvloop.run, self._both(target, timeout_ms, expectations))
        return await self._both(target, timeout_ms, expectations)


@pytest.fixture(params=["asyncio", "uvloop"])
def loop_kind(request) -> str:
    return request.param


@pytest.fixture
async def both(ca, loop_kind) -> AsyncIterator[Clients]:
    """Lean and aiohttp-only clients trusting the test CA."""
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    clients = Clients(loop_kind, True, trust)
    yield clients
    await clients.lean.http.close()


def _phases(result: CheckResult) -> set[str]:
    t = result.timings
    return {name for name in ("dns_us", "connect_us", "tls_us", "ttfb_us", "total_us") if getattr(t, name)}


def _comparable(result: CheckResult) -> dict:
    detail = dict(result.detail)
    if "certificate" in detail:  # days_left is rounded from the time of the check
        detail["certificate"] = {k: v for k, v in detail["certificate"].items() if k != "days_left"}
    # The phases of a judged response must agree. A failure's phases are what each client got
    # to before it failed, and aiohttp's marks drop some it did reach (ttfb when the head and
    # a bad body arrive in one read, connect when a later hop is refused): not compared.
    phases = _phases(result) if result.status_code else None
    return {"up": result.up, "error_kind": result.error_kind, "status_code": result.status_code,
            "attempts": result.attempts, "detail": detail, "phases": phases}


async def same(clients: Clients, target: str, timeout_ms: int = 1000, **expectations) -> CheckResult:
    """Check the target through both clients; assert they agree; return the lean result."""
    lean, plain = await clients.run(target, timeout_ms, expectations)
    assert _comparable(lean) == _comparable(plain), (lean.as_dict(), plain.as_dict())
    return lean


# A web app for redirects that change or keep the method, and an echo of what arrived.
def _redirect_app() -> web.Application:
    async def redirect(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        to = request.query.get("to", "/echo")
        return web.Response(status=code, headers={"Location": to} if to != "none" else {})

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"method": request.method, "body": await request.text(),
                                  "auth": request.headers.get("Authorization"),
                                  "cookie": request.headers.get("Cookie")})

    app = web.Application()
    app.router.add_route("*", "/r/{code}", redirect)
    app.router.add_route("*", "/echo", echo)
    return app


@pytest.fixture
async def redirect_server() -> AsyncIterator[int]:
    runner = web.AppRunner(_redirect_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]
    finally:
        await runner.cleanup()


# Canned answers written byte for byte, for framings and failures a web framework will not send.
GZ = gzip.compress(b"hello gzip needle")
CANNED = {
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n needle\r\n0\r\n\r\n",
    "keepalive": b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nok needle",  # the server keeps the connection
    "until_close": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nread to the end needle",
    "http10": b"HTTP/1.0 200 OK\r\n\r\nold needle",
    "short": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this",
    "bad_chunks": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n",
    "gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(GZ) + GZ,
    "deflate": (b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"%x\r\n" % len(zlib.compress(b"deflated needle")) + zlib.compress(b"deflated needle")
                + b"\r\n0\r\n\r\n"),
    "bad_gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!",
    "continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nneedle",
    "no_content": b"HTTP/1.1 204 No Content\r\n\r\n",  # kept open: a 204 has no body to wait for
    "not_found": b"HTTP/1.1 404 Not Found\r\nContent-Length: 6\r\n\r\nneedle",
    "silent_close": b"",
    "no_location": b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n",
    "to_ftp": b"HTTP/1.1 301 Moved\r\nLocation: ftp://example.com/x\r\nContent-Length: 0\r\n\r\n",
    "to_metadata": b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest\r\nContent-Length: 0\r\n\r\n",
    "bad_status": b"HTTP/1.1 2000 Nope\r\nContent-Length: 0\r\n\r\n",
}
KEEP_OPEN = {"keepalive", "no_content"}


@pytest.fixture
async def canned() -> AsyncIterator[tuple[dict[str, int], list[bytes]]]:
    """Ports of servers answering CANNED[name] to any request, and the request heads they read."""
    heads: list[bytes] = []

    def serve(name: str):
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                heads.append(head)
                writer.write(CANNED[name])
                await writer.drain()
                if name in KEEP_OPEN:
                    await reader.read()  # until the client closes
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()
        return handle

    servers = {name: await asyncio.start_server(serve(name), "127.0.0.1", 0) for name in CANNED}
    try:
        yield {name: s.sockets[0].getsockname()[1] for name, s in servers.items()}, heads
    finally:
        for s in servers.values():
            s.close()


CANNED_CASES = [
    # (server, expectations, kind, status)
    ("chunked", {"keyword": "hello needle"}, ErrorKind.none, 200),
    ("keepalive", {"keyword": "needle"}, ErrorKind.none, 200),
    ("until_close", {"keyword": "needle"}, ErrorKind.none, 200),
    ("http10", {"keyword": "needle"}, ErrorKind.none, 200),
    ("short", {}, ErrorKind.protocol, 0),
    ("bad_chunks", {}, ErrorKind.protocol, 0),
    ("gzip", {"keyword": "gzip needle"}, ErrorKind.none, 200),
    ("deflate", {"keyword": "deflated needle"}, ErrorKind.none, 200),
    ("bad_gzip", {}, ErrorKind.protocol, 0),
    ("continue", {"keyword": "needle"}, ErrorKind.none, 200),
    ("no_content", {}, ErrorKind.none, 204),
    ("not_found", {"keyword": "needle"}, ErrorKind.http_status, 404),
    ("silent_close", {}, ErrorKind.reset, 0),
    ("no_location", {}, ErrorKind.none, 302),
    ("to_ftp", {}, ErrorKind.protocol, 0),
    ("to_metadata", {}, ErrorKind.blocked_target, 0),
    ("bad_status", {}, ErrorKind.protocol, 0),
    ("keepalive", {"keyword": "needle", "max_body_bytes": 1024}, ErrorKind.none, 200),
    ("until_close", {"json_path": "a", "json_equals": 1}, ErrorKind.assertion, 200),
]


@pytest.mark.parametrize(("server", "expectations", "kind", "status"), CANNED_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CANNED_CASES)])
async def test_framings_and_failures_match_aiohttp(both, canned, server, expectations, kind, status):
    ports, _ = canned
    result = await same(both, f"http://127.0.0.1:{ports[server]}/", **expectations)
    assert (result.error_kind, result.status_code) == (kind, status), result.as_dict()


WEB_CASES = [
    ("/status/200", {}, 1000),
    ("/status/503", {"attempts": 2}, 1000),
    ("/status/404", {"status_codes": [404]}, 1000),
    ("/slow", {}, 300),
    ("/loop", {"max_redirects": 5}, 1000),
    ("/loop", {"max_redirects": 1}, 1000),
    ("/loop", {"max_redirects": 0}, 1000),
    ("/hop/3", {"max_redirects": 4}, 1000),
    ("/hop/3", {"max_redirects": 3}, 1000),
    ("/big", {"keyword": "needle", "max_body_bytes": 65536}, 1000),
    ("/big", {"keyword": "needle"}, 1000),
    ("/health", {"json_path": "$.checks.0.ok", "json_equals": True}, 1000),
    ("/health", {"json_path": "version", "json_equals": 4}, 1000),
    ("/status/200", {"method": "HEAD"}, 1000),
    ("/echo", {"method": "POST", "body": "ping", "json_path": "body", "json_equals": "ping"}, 1000),
    ("/to-metadata", {}, 1000),
]


@pytest.mark.parametrize(("path", "expectations", "timeout_ms"), WEB_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(WEB_CASES)])
async def test_web_server_outcomes_match_aiohttp(both, web_server, path, expectations, timeout_ms):
    await same(both, web_server + path, timeout_ms=timeout_ms, **expectations)


@pytest.mark.parametrize(("code", "method", "arrives_as", "body"), [
    (301, "POST", "GET", ""), (302, "POST", "GET", ""), (303, "PUT", "GET", ""),
    (307, "POST", "POST", "ping"), (308, "PUT", "PUT", "ping"), (302, "DELETE", "DELETE", "ping"),
])
async def test_redirects_change_the_method_as_aiohttp_does(both, redirect_server, code, method, arrives_as, body):
    target = f"http://127.0.0.1:{redirect_server}/r/{code}"
    result = await same(both, target, method=method, body="ping", json_path="method", json_equals=arrives_as)
    assert result.up and result.detail["redirects"] == 1, result.as_dict()
    await same(both, target, method=method, body="ping", json_path="body", json_equals=body)


async def test_credentials_stay_with_their_origin(both, redirect_server):
    headers = {"Authorization": "Bearer secret-token", "Cookie": "a=b"}
    same_origin = f"http://127.0.0.1:{redirect_server}/r/302"
    other_origin = f"{same_origin}?to=http://localhost:{redirect_server}/echo"
    result = await same(both, same_origin, headers=headers, json_path="auth", json_equals="Bearer secret-token")
    assert result.up, result.as_dict()
    result = await same(both, other_origin, headers=headers, json_path="auth", json_equals=None)
    assert result.up, result.as_dict()
    result = await same(both, other_origin, headers=headers, json_path="cookie", json_equals=None)
    assert result.up, result.as_dict()


async def test_relative_and_absolute_locations(both, redirect_server):
    for to in ("echo", "/echo", f"http://127.0.0.1:{redirect_server}/echo", "http:/echo", "none"):
        await same(both, f"http://127.0.0.1:{redirect_server}/r/302?to={to}")


@pytest.mark.parametrize(("method", "headers", "body"), [
    ("GET", {}, None), ("HEAD", {}, None), ("OPTIONS", {"Accept": "x/y", "User-Agent": "probe"}, None),
    ("POST", {}, None), ("PUT", {}, None), ("PATCH", {}, None), ("DELETE", {}, None),
    ("POST", {"Content-Type": "application/json", "X-Token": "t1"}, '{"probe": true}'),
    ("PATCH", {"x-lower": "v"}, "body"),
])
async def test_the_request_is_written_as_aiohttp_writes_it(both, canned, method, headers, body):
    ports, heads = canned
    target = f"http://127.0.0.1:{ports['no_content']}/a%20b/c?q=1&r=x y"
    expectations = {"method": method, "headers": headers, **({"body": body} if body is not None else {})}
    await same(both, target, **expectations)
    lean_head, aiohttp_head = heads
    assert lean_head == aiohttp_head


@pytest.mark.parametrize(("server", "expectations"), [
    ("valid", {}), ("expiring", {}), ("self_signed", {}), ("expired", {}),
    ("self_signed", {"tls_skip_verify": True}), ("expired", {"tls_skip_verify": True}),
])
async def test_tls_outcomes_match_aiohttp(both, tls_servers, server, expectations):
    for host in ("127.0.0.1", "localhost"):
        result = await same(both, f"https://{host}:{tls_servers[server]}/status/200", **expectations)
        if result.up:
            assert {"connect_us", "tls_us", "ttfb_us"} <= _phases(result)
            assert result.detail["certificate"]["not_after"]


async def test_https_redirect_chain_keeps_the_last_hops_certificate(both, tls_servers):
    result = await same(both, f"https://localhost:{tls_servers['valid']}/hop/2")
    assert result.up and result.detail["redirects"] == 2 and "dns_us" in _phases(result)


async def test_tls_to_a_plain_port_and_a_silent_one(both, web_server, raw_servers):
    port = web_server.rsplit(":", 1)[1]
    result = await same(both, f"https://127.0.0.1:{port}/status/200")
    assert result.error_kind == ErrorKind.tls, result.as_dict()
    result = await same(both, f"https://127.0.0.1:{raw_servers['hang']}/", timeout_ms=300)
    assert result.error_kind == ErrorKind.connect_timeout, result.as_dict()


@pytest.mark.parametrize(("server", "kind"), [
    ("hang", ErrorKind.read_timeout), ("reset", ErrorKind.reset), ("garbage", ErrorKind.protocol)])
async def test_misbehaving_servers_match_aiohttp(both, raw_servers, server, kind):
    result = await same(both, f"http://127.0.0.1:{raw_servers[server]}/", timeout_ms=300)
    assert result.error_kind == kind, result.as_dict()


async def test_connection_failures_match_aiohttp(both, blackhole_port):
    assert (await same(both, f"http://127.0.0.1:{free_port()}/")).error_kind == ErrorKind.refused
    assert (await same(both, f"http://localhost:{free_port()}/")).error_kind == ErrorKind.refused
    result = await same(both, f"http://127.0.0.1:{blackhole_port}/", timeout_ms=300)
    assert result.error_kind == ErrorKind.connect_timeout
    assert (await same(both, "http://no-such-host.invalid/")).error_kind == ErrorKind.dns


async def test_the_address_guard_refuses_the_same_targets(loop_kind, web_server):
    port = web_server.rsplit(":", 1)[1]
    guarded = Clients(loop_kind, False, None)
    for target in (f"http://127.0.0.1:{port}/", f"http://localhost:{port}/", f"http://[::1]:{port}/",
                   "http://169.254.169.254/latest", f"http://0x7f000001:{port}/"):
        result = await same(guarded, target)
        assert result.error_kind == ErrorKind.blocked_target, (target, result.as_dict())
    # Legacy IPv4 spellings are refused before any guard is asked: they are not canonical.
    result = await same(guarded, f"http://127.1:{port}/")
    assert result.error_kind == ErrorKind.protocol and "canonical" in result.error, result.as_dict()
    await guarded.lean.http.close()


async def test_a_url_with_credentials_goes_through_aiohttp(both, redirect_server):
    assert not both.lean.http_lean.covers(f"http://user:pw@127.0.0.1:{redirect_server}/echo")
    result = await same(both, f"http://user:pw@127.0.0.1:{redirect_server}/echo",
                        json_path="auth", json_equals="Basic dXNlcjpwdw==")
    assert result.up, result.as_dict()
