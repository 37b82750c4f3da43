"""Real local servers for the check tests, all on 127.0.0.1 port 0: an HTTP app with a
route per behaviour, raw TCP servers that misbehave (hang, reset, garbage), TLS servers
with trusted, self-signed and expired certificates (trustme), and a tiny DNS responder."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
import trustme
from aiohttp import web

from ingest.checks.base import MonitorSpec
from ingest.context import make_check_context

CALLS = web.AppKey("calls", list)
BIG_BODY = b"x" * 200_000 + b"needle"


def spec(target: str, kind: str = "http", timeout_ms: int = 1000, attempts: int = 1, **expectations) -> MonitorSpec:
    return MonitorSpec(id=1, kind=kind, target=target, timeout_ms=timeout_ms,
                       expectations=expectations, attempts=attempts)


async def _start(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


def _http_app() -> web.Application:
    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status page")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def loop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def hop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/hop/{n - 1}" if n > 1 else "/status/200")

    async def big(_: web.Request) -> web.Response:
        return web.Response(body=BIG_BODY)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "checks": [{"name": "db", "ok": True}], "version": 3})

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"method": request.method, "body": await request.text(),
                                  "x_token": request.headers.get("X-Token")})

    async def flaky(request: web.Request) -> web.Response:
        """503 for the first n requests, then 200 (count kept per app)."""
        counter = request.app[CALLS]
        counter[0] += 1
        calls = counter[0]
        return web.Response(status=503 if calls <= int(request.match_info["n"]) else 200, text=str(calls))

    async def to_metadata(_: web.Request) -> web.Response:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    app = web.Application()
    app[CALLS] = [0]
    app.router.add_get("/flaky/{n}", flaky)
    app.router.add_get("/to-metadata", to_metadata)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/slow", slow)
    app.router.add_get("/loop", loop)
    app.router.add_get("/hop/{n}", hop)
    app.router.add_get("/big", big)
    app.router.add_get("/health", health)
    app.router.add_route("*", "/echo", echo)
    return app


@pytest.fixture
async def web_server() -> AsyncIterator[str]:
    runner, port = await _start(_http_app())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def _tcp_server(handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]):
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # never answers; ends when the client gives up and closes
    writer.close()


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()  # SO_LINGER 0: the close sends RST


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"SSH-2.0-OpenSSH_9.2 this is not HTTP\r\n\r\n")
    await writer.drain()
    writer.close()


@pytest.fixture
async def raw_servers() -> AsyncIterator[dict[str, int]]:
    """Ports of servers that hang, reset after the request, or answer garbage."""
    servers = {name: await _tcp_server(h) for name, h in (("hang", _hang), ("reset", _reset), ("garbage", _garbage))}
    try:
        yield {name: port for name, (_, port) in servers.items()}
    finally:
        for server, _ in servers.values():
            server.close()


@pytest.fixture
def blackhole_port():
    """A port whose accept queue is full: new SYNs are dropped, so connecting times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    try:
        yield port
    finally:
        for c in fillers:
            c.close()
        server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_servers(ca: trustme.CA) -> AsyncIterator[dict[str, int]]:
    """HTTPS servers (same app) with a cert from the trusted CA valid 5 days and 400 days,
    one from an untrusted (self-signed) CA and one expired yesterday."""
    now = datetime.now(UTC)
    untrusted = trustme.CA()
    certs = {
        "valid": ca.issue_cert("127.0.0.1", "localhost", not_after=now + timedelta(days=400)),
        "expiring": ca.issue_cert("127.0.0.1", "localhost", not_after=now + timedelta(days=5)),
        "self_signed": untrusted.issue_cert("127.0.0.1", "localhost"),
        "expired": ca.issue_cert("127.0.0.1", "localhost", not_before=now - timedelta(days=30),
                                 not_after=now - timedelta(days=1)),
    }
    runners, ports = [], {}
    for name, cert in certs.items():
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        runner, ports[name] = await _start(_http_app(), context)
        runners.append(runner)
    try:
        yield ports
    finally:
        for runner in runners:
            await runner.cleanup()


@pytest.fixture
async def check_ctx(ca: trustme.CA):
    """A check context trusting the test CA, with short retry waits."""
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    ctx = make_check_context(allow_private=True, retry_base_s=0.05, tls_context=trust)
    try:
        yield ctx
    finally:
        await ctx.http.close()


class _DnsResponder(asyncio.DatagramProtocol):
    """Answers from a fixed table {(name, type): [rdata text]}; unknown names NXDOMAIN."""

    def __init__(self, zone: dict[tuple[str, str], list[str]]) -> None:
        self.zone = zone

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text()
        rtype = dns.rdatatype.to_text(question.rdtype)
        reply = dns.message.make_response(query)
        if name == "silent.test.":
            return  # never answers: the client times out
        if not any(n == name for n, _ in self.zone):
            reply.set_rcode(dns.rcode.NXDOMAIN)
        elif (name, rtype) in self.zone:
            reply.answer.append(dns.rrset.from_text_list(name, 60, "IN", rtype, self.zone[(name, rtype)]))
        self.transport.sendto(reply.to_wire(), addr)


DNS_ZONE = {
    ("example.test.", "A"): ["192.0.2.10", "192.0.2.11"],
    ("example.test.", "MX"): ["10 mail.example.test."],
    ("example.test.", "TXT"): ['"v=spf1 -all"'],
}


@pytest.fixture
async def dns_server() -> AsyncIterator[str]:
    """"127.0.0.1:PORT" of a UDP DNS responder serving DNS_ZONE."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _DnsResponder(DNS_ZONE),
                                                       local_addr=("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{transport.get_extra_info('sockname')[1]}"
    finally:
        transport.close()


def dumps(result) -> str:
    return json.dumps(result.as_dict())
