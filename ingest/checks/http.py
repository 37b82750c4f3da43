"""HTTP(S) check: one request on a fresh connection, phase timings from aiohttp's tracing."""

from __future__ import annotations

import ipaddress
import socket
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import aiohttp

from ingest.checks.base import CheckContext, CheckResult, MonitorSpec, Timings
from vigil.constants import ErrorKind
from vigil.netguard import BlockedTarget, ensure_allowed


def _us(start: float, end: float) -> int:
    return max(0, int((end - start) * 1_000_000))


async def _on_dns_start(session, ctx, params):
    ctx.trace_request_ctx.dns_start = time.perf_counter()


async def _on_dns_end(session, ctx, params):
    ctx.trace_request_ctx.dns_end = time.perf_counter()


async def _on_conn_start(session, ctx, params):
    ctx.trace_request_ctx.conn_start = time.perf_counter()


async def _on_conn_end(session, ctx, params):
    ctx.trace_request_ctx.conn_end = time.perf_counter()


async def _on_headers_sent(session, ctx, params):
    ctx.trace_request_ctx.sent = time.perf_counter()


async def _on_request_end(session, ctx, params):
    ctx.trace_request_ctx.headers = time.perf_counter()


def trace_config() -> aiohttp.TraceConfig:
    """Installed on the worker's shared ClientSession; each request carries its own marks."""
    tc = aiohttp.TraceConfig(trace_config_ctx_factory=_TraceCtx)
    tc.on_dns_resolvehost_start.append(_on_dns_start)
    tc.on_dns_resolvehost_end.append(_on_dns_end)
    tc.on_connection_create_start.append(_on_conn_start)
    tc.on_connection_create_end.append(_on_conn_end)
    tc.on_request_headers_sent.append(_on_headers_sent)
    tc.on_request_end.append(_on_request_end)
    return tc


class _TraceCtx(SimpleNamespace):
    def __init__(self, trace_request_ctx=None):
        super().__init__(trace_request_ctx=trace_request_ctx)


def _expected_status(spec: MonitorSpec, status: int) -> bool:
    wanted = spec.expectations.get("status_codes")
    if wanted:
        return status in wanted
    return 200 <= status < 400


class GuardedResolver(aiohttp.ThreadedResolver):
    """Refuses names that resolve to forbidden addresses (decided after resolution, so DNS
    rebinding cannot slip past)."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    async def resolve(self, host, port=0, family=socket.AF_INET):
        infos = await super().resolve(host, port, family)
        for info in infos:
            ensure_allowed(info["host"], self.allow_private)
        return infos


def _literal_ip(host: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((host or "").strip("[]")))
    except ValueError:
        return None


def classify(exc: BaseException, marks: SimpleNamespace, spec: MonitorSpec) -> CheckResult | None:
    """Map a client exception to a failure kind; None for exceptions that are our bugs."""
    if isinstance(exc, BlockedTarget):
        return CheckResult.failure(ErrorKind.blocked_target, str(exc))
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return CheckResult.failure(ErrorKind.tls, str(exc))
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, BlockedTarget):
            return CheckResult.failure(ErrorKind.blocked_target, str(exc.os_error))
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return CheckResult.failure(ErrorKind.dns, str(exc))
        if isinstance(exc.os_error, ConnectionRefusedError):
            return CheckResult.failure(ErrorKind.refused, str(exc))
        return CheckResult.failure(ErrorKind.unreachable, str(exc))
    if isinstance(exc, aiohttp.TooManyRedirects):
        return CheckResult.failure(ErrorKind.too_many_redirects, str(exc))
    if isinstance(exc, (aiohttp.ServerDisconnectedError, ConnectionResetError)):
        return CheckResult.failure(ErrorKind.reset, str(exc) or "connection reset")
    if isinstance(exc, aiohttp.ClientResponseError):
        return CheckResult.failure(ErrorKind.protocol, str(exc))
    if isinstance(exc, aiohttp.ClientPayloadError):
        return CheckResult.failure(ErrorKind.protocol, str(exc))
    if isinstance(exc, aiohttp.ClientOSError):
        return CheckResult.failure(ErrorKind.reset, str(exc))
    if isinstance(exc, TimeoutError):
        kind = ErrorKind.read_timeout if hasattr(marks, "conn_end") else ErrorKind.connect_timeout
        return CheckResult.failure(kind, f"no answer within {spec.timeout_ms} ms")
    return None


async def check(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    marks = SimpleNamespace()
    start = time.perf_counter()
    timings = Timings()
    literal = _literal_ip(urlsplit(spec.target).hostname)
    try:
        if literal:  # aiohttp skips the resolver for IP literals
            ensure_allowed(literal, ctx.allow_private)
        async with ctx.http.request(
            spec.expectations.get("method", "GET"), spec.target,
            headers=spec.expectations.get("headers"),
            allow_redirects=True, max_redirects=spec.expectations.get("max_redirects", 10),
            trace_request_ctx=marks, timeout=aiohttp.ClientTimeout(total=spec.timeout_ms / 1000),
        ) as resp:
            await resp.content.read(spec.expectations.get("max_body_bytes", 65536))
            status = resp.status
    except Exception as exc:
        failure = classify(exc, marks, spec)
        if failure is None:
            raise
        return failure
    end = time.perf_counter()
    if hasattr(marks, "dns_start") and hasattr(marks, "dns_end"):
        timings.dns_us = _us(marks.dns_start, marks.dns_end)
    if hasattr(marks, "conn_start") and hasattr(marks, "conn_end"):
        timings.connect_us = _us(marks.conn_start, marks.conn_end) - timings.dns_us
    if hasattr(marks, "headers"):
        timings.ttfb_us = _us(getattr(marks, "sent", start), marks.headers)
    timings.total_us = _us(start, end)
    if not _expected_status(spec, status):
        return CheckResult.failure(ErrorKind.http_status, f"unexpected status {status}",
                                   status_code=status, timings=timings)
    return CheckResult(up=True, status_code=status, timings=timings)
