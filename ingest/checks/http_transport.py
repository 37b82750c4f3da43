"""The HTTP check's connection layer: an aiohttp connector that refuses forbidden
addresses at the socket (so IP literals, every resolved address and every redirect hop
are judged on the address actually connected to) and marks when the TCP connect and the
TLS handshake end, which aiohttp does not tell apart."""

from __future__ import annotations

import ssl
import time
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any, NoReturn

import aiohappyeyeballs
import aiohttp

from vigil.netguard import (
    GuardedResolver,
    Policy,
    guarded_socket_factory,
)

# The marks object of the HTTP check running in the current task; the connector writes
# tcp_start/tcp_end/tls_end into it (connect runs in the request's own task).
current_marks: ContextVar[SimpleNamespace | None] = ContextVar("vigil_http_marks", default=None)


class TimedConnector(aiohttp.TCPConnector):
    """TCPConnector that connects the socket and then runs the TLS handshake as two
    timed steps. Overrides aiohttp's private ``_wrap_create_connection``; the phase-timing
    tests fail loudly if a future aiohttp changes it."""

    async def _wrap_create_connection(self, *args: Any, addr_infos: list, req: Any, timeout: Any,  # noqa: ASYNC109
                                      client_error: type[Exception] = aiohttp.ClientConnectorError,
                                      **kwargs: Any) -> Any:
        marks = current_marks.get()
        if marks is None:
            return await super()._wrap_create_connection(
                *args, addr_infos=addr_infos, req=req, timeout=timeout, client_error=client_error, **kwargs)
        marks.tcp_start = time.perf_counter()
        try:
            sock = await aiohappyeyeballs.start_connection(
                addr_infos=addr_infos, loop=self._loop, socket_factory=self._socket_factory)
        except OSError as exc:
            _reraise(req, exc, client_error)
        marks.tcp_end = time.perf_counter()
        try:
            result = await self._loop.create_connection(*args, **kwargs, sock=sock)
        except BaseException as exc:
            sock.close()
            _reraise(req, exc, client_error)
        marks.tls_end = time.perf_counter()
        # The certificate is read now: a small response releases its connection before
        # the check could look at it.
        ssl_object = result[0].get_extra_info("ssl_object")
        marks.cert_der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        return result


def _reraise(req: Any, exc: BaseException, client_error: type[Exception]) -> NoReturn:
    """Raise connection errors as the aiohttp types aiohttp itself would raise."""
    if isinstance(exc, ssl.CertificateError):
        raise aiohttp.ClientConnectorCertificateError(req.connection_key, exc) from exc
    if isinstance(exc, ssl.SSLError):
        raise aiohttp.ClientConnectorSSLError(req.connection_key, exc) from exc
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
        raise client_error(req.connection_key, exc) from exc
    raise exc  # timeouts and cancellation pass through as they are


def make_session(allow_private: bool | Policy) -> aiohttp.ClientSession:
    # force_close: every check opens its own connection, as a first-time visitor would,
    # so connect and TLS timings are measured each time.
    connector = TimedConnector(limit=0, force_close=True, use_dns_cache=False,
                               resolver=GuardedResolver(allow_private),
                               socket_factory=guarded_socket_factory(allow_private))
    return aiohttp.ClientSession(connector=connector, trace_configs=[_trace_config()],
                                 cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=True,
                                 headers={"User-Agent": "Vigil/0.1 (+uptime check)"})


def _mark(name: str):
    async def on_event(session: Any, ctx: Any, params: Any) -> None:
        if ctx.trace_request_ctx is not None:
            setattr(ctx.trace_request_ctx, name, time.perf_counter())
    return on_event


def _trace_config() -> aiohttp.TraceConfig:
    tc = aiohttp.TraceConfig()
    tc.on_dns_resolvehost_start.append(_mark("dns_start"))
    tc.on_dns_resolvehost_end.append(_mark("dns_end"))
    tc.on_request_headers_sent.append(_mark("sent"))
    tc.on_request_end.append(_mark("headers"))
    return tc
