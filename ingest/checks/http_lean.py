"""The lean HTTP client: what an HTTP(S) check needs and nothing more, a fraction of
aiohttp's CPU per check (see docs/checks.md "The lean HTTP path").

One request per connection, each hop of a redirect chain on a fresh connection. Names are
resolved by the address guard's GuardedResolver and every numeric address is judged by
the guard right before it is connected to (vigil/netguard.py), as the aiohttp path's
socket factory does. It answers in the
aiohttp path's terms: the same marks for the phase timings, and failures as LeanFailure
carrying the error kind aiohttp's exception would have been classified as; timeouts are a
TimeoutError, judged by the caller like aiohttp's. A check whose URL carries credentials
(aiohttp turns them into Basic authentication) goes through aiohttp instead."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Callable
from functools import lru_cache, partial
from types import SimpleNamespace
from typing import Any

from yarl import URL

from ingest.checks.http_wire import REDIRECTS, Exchange, LeanFailure, request_head
from vigil.constants import ErrorKind
from vigil.netguard import BlockedTarget, GuardedResolver, Policy, ensure_allowed, policy_of

_C0_OR_SPACE = "".join(map(chr, range(33)))
_SLASHES = ("/", "\\")


@lru_cache(maxsize=16_384)  # a worker checks the same targets every interval
def parse_url(target: str) -> URL:
    return URL(target)


@lru_cache(maxsize=16_384)
def _literal(host: str) -> bool:
    """Whether the host is an address rather than a name, judged as aiohttp judges it:
    anything with a colon, or digits and dots; of the latter only the dotted quad is taken
    (the legacy forms ``127.1``, ``2130706433`` would map onto other addresses)."""
    if ":" in host:
        return True
    if not host.replace(".", "").isdigit():
        return False
    parts = host.split(".")
    if len(parts) != 4 or not all(p.isascii() and 1 <= len(p) <= 3 and (p == "0" or p[0] != "0") and int(p) <= 255
                                  for p in parts):
        raise LeanFailure(ErrorKind.protocol, f"{host} - is not a canonical IPv4 address")
    return True


def tls_context(verified: bool) -> ssl.SSLContext:
    """The contexts aiohttp makes for ssl=True and ssl=False."""
    if verified:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.options |= ssl.OP_NO_COMPRESSION
        context.set_default_verify_paths()
    context.set_alpn_protocols(("http/1.1",))
    return context


def redirect_url(current: URL, location: bytes) -> URL:
    """Where a Location header leads, read as aiohttp reads it."""
    text = location.decode("utf-8", "surrogateescape")
    try:
        target = URL(text)
    except ValueError:
        raise LeanFailure(ErrorKind.protocol, f"{text}: Server attempted redirecting to a location "
                                              "that does not look like a URL") from None
    scheme = target.scheme
    if scheme not in ("http", "https", ""):
        raise LeanFailure(ErrorKind.protocol, f"{text}: not an http(s) redirect")
    rest = text.strip(_C0_OR_SPACE).replace("\t", "").replace("\n", "").replace("\r", "")
    rest = rest[len(scheme) + 1:len(scheme) + 3]
    if not scheme or (scheme == current.scheme and (rest[:1] not in _SLASHES or rest[1:] not in _SLASHES)):
        target = current.join(target)
    try:
        target.origin()
    except ValueError:
        raise LeanFailure(ErrorKind.protocol, f"{target}: Invalid redirect URL origin") from None
    return target


class LeanHttp:
    """One per check context: the TLS contexts, the guard's policy and resolver."""

    def __init__(self, allow_private: bool | Policy, tls_context_verified: ssl.SSLContext | None = None) -> None:
        self.policy = policy_of(allow_private)
        self.verified = tls_context_verified or tls_context(True)
        self.insecure = tls_context(False)
        self._resolver: GuardedResolver | None = None

    @staticmethod
    def covers(target: str) -> bool:
        url = parse_url(target)
        return url.raw_user is None and url.raw_password is None

    async def request(self, target: str, opts: Any, timeout_s: float, marks: SimpleNamespace
                      ) -> tuple[int, bytes, bool, int]:
        """(status, body up to the cap, whether there was more, redirects followed)."""
        async with asyncio.timeout(timeout_s):
            return await self._follow(parse_url(target), opts, marks)

    async def _follow(self, url: URL, opts: Any, marks: SimpleNamespace) -> tuple[int, bytes, bool, int]:
        method, headers = opts.method, opts.headers
        body = opts.body.encode() if opts.body is not None else None
        follow, redirects = opts.max_redirects > 0, 0
        while True:
            ex = await self._exchange(url, method, headers, body, opts, marks, follow)
            if not (follow and ex.status in REDIRECTS):
                return (ex.status, *ex.body(), redirects)
            # Counted, and held against the limit, before the Location is looked at: a redirect
            # status without one ends the chain, as aiohttp has it.
            redirects += 1
            if redirects >= opts.max_redirects:
                raise LeanFailure(ErrorKind.too_many_redirects, f"more than {redirects} redirects")
            if ex.location is None:
                return (ex.status, *ex.body(), redirects)
            if (ex.status == 303 and method != "HEAD") or (ex.status in (301, 302) and method == "POST"):
                method, body = "GET", None
            target = redirect_url(url, ex.location)
            if target.origin() != url.origin():  # credentials stay with the origin that was given them
                headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
            url = target

    async def _exchange(self, url: URL, method: str, headers: dict[str, str], body: bytes | None,
                        opts: Any, marks: SimpleNamespace, follow: bool) -> Exchange:
        loop = asyncio.get_running_loop()
        new_exchange = partial(Exchange, loop, opts.max_body_bytes, method == "HEAD", follow)
        context = (self.insecure if opts.tls_skip_verify else self.verified) if url.scheme == "https" else None
        transport, exchange = await self._connect(loop, url, new_exchange, marks, context, opts.tls_skip_verify)
        try:
            head = request_head(method, url, headers, body)
            transport.write(head + body if body else head)
            marks.sent = time.perf_counter()
            await exchange.done
        finally:
            if not exchange.done.done() or exchange.done.cancelled():  # a timeout cancels the wait
                transport.abort()
            if exchange.headers_at:  # the answer's head came, even if its body then failed
                marks.headers = exchange.headers_at
        return exchange

    async def _connect(self, loop: asyncio.AbstractEventLoop, url: URL, new_exchange: Callable[[], Exchange],
                       marks: SimpleNamespace, context: ssl.SSLContext | None, insecure: bool
                       ) -> tuple[asyncio.Transport, Exchange]:
        host, port = url.raw_host or "", url.port or 80
        if host.endswith(".."):
            host = host.rstrip(".") + "."
        shown = f"Cannot connect to host {host}:{port} ssl:{'False' if insecure else 'default'}"
        if _literal(host):
            addresses = [(socket.AF_INET6 if ":" in host else socket.AF_INET, host)]
        else:
            marks.dns_start = time.perf_counter()
            if self._resolver is None:
                self._resolver = GuardedResolver(self.policy)
            try:
                hosts = await self._resolver.resolve(host, port, family=0)
            except BlockedTarget:
                raise
            except OSError as exc:
                raise LeanFailure(ErrorKind.dns, f"{shown} [{exc.strerror or exc}]") from None
            marks.dns_end = time.perf_counter()
            addresses = [(socket.AF_INET6 if ":" in h["host"] else socket.AF_INET, h["host"]) for h in hosts]
        last: LeanFailure | None = None
        for family, address in addresses:  # in order, as aiohttp tries them
            try:
                return await self._open(loop, family, address, port, host, new_exchange(), marks, context, shown)
            except LeanFailure as exc:
                last = LeanFailure(exc.kind, exc.message)  # without the traceback that refers back here
        raise last or LeanFailure(ErrorKind.dns, f"{shown} [no address]")

    async def _open(self, loop: asyncio.AbstractEventLoop, family: int, address: str, port: int, host: str,
                    exchange: Exchange, marks: SimpleNamespace, context: ssl.SSLContext | None,
                    shown: str) -> tuple[asyncio.Transport, Exchange]:
        # The guard judges the numeric address about to be connected to, as the socket
        # factory does; connect is given that address, never a name, so nothing is
        # resolved in between.
        ensure_allowed(address, self.policy, port)
        marks.tcp_start = time.perf_counter()
        try:
            transport, _ = await loop.create_connection(lambda: exchange, address, port, family=family)
        except OSError as exc:
            exchange.done.cancel()  # nobody will wait for an answer on this connection
            if isinstance(exc, TimeoutError):
                raise
            raise _connect_failure(exc, shown) from None
        marks.tcp_end = time.perf_counter()
        if context is not None:
            try:
                transport = await loop.start_tls(transport, exchange, context, server_hostname=host.rstrip("."))
            except BaseException as exc:
                exchange.done.cancel()
                transport.abort()
                if isinstance(exc, ssl.SSLError):  # certificate errors included
                    raise LeanFailure(ErrorKind.tls, f"{shown} [{type(exc).__name__}: {exc}]") from None
                if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
                    raise _connect_failure(exc, shown) from None
                raise
            exchange.transport = transport
            ssl_object = transport.get_extra_info("ssl_object")
            marks.cert_der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        else:
            marks.cert_der = None
        marks.tls_end = time.perf_counter()
        return transport, exchange


def _connect_failure(exc: OSError, shown: str) -> LeanFailure:
    kind = ErrorKind.refused if isinstance(exc, ConnectionRefusedError) else ErrorKind.unreachable
    return LeanFailure(kind, f"{shown} [{exc.strerror or exc}]")
