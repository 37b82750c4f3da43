"""TLS certificate check: handshake with tls://host:port (default 443), verify the chain
and name, and say how many days the certificate has left. Down with cert_expiring when
fewer than the threshold; down with tls when the handshake or verification fails (the
certificate is still recorded, read on an unverified second handshake)."""

from __future__ import annotations

import asyncio
import ssl
import time
from functools import cache
from typing import Literal

from pydantic import Field

from ingest.checks.base import CheckContext, CheckResult, Destination, Kind, MonitorSpec, Options, flag
from ingest.checks.certinfo import CertInfo, from_ssl_object
from ingest.checks.tcp import close_quietly, connect, host_port
from vigil.constants import ErrorKind

DEFAULT_PORT = 443
NOT_VALID = "certificate not valid"


class TlsOptions(Options):
    kind: Literal["tls"] = "tls"
    cert_min_days: int = Field(default=14, ge=0, le=3650,
                               description="down (cert_expiring) when fewer days are left")
    tls_skip_verify: bool = Field(default=False, description="check expiry only, not the chain or name")


@cache
def ssl_context(verify: bool) -> ssl.SSLContext:
    """Built once: loading the CA store costs milliseconds."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def _handshake(host: str, port: int, verify: bool, ctx: CheckContext, timeout_s: float
                     ) -> tuple[CertInfo | None, CheckResult | None, int, int]:
    """(certificate, failure, connect µs, tls µs); connect and handshake share the timeout."""
    writer = None
    try:
        async with asyncio.timeout(timeout_s):
            writer, timings = await connect(host, port, ctx, timeout_s)
            if isinstance(writer, CheckResult):
                return None, writer, 0, 0
            t0 = time.perf_counter()
            await writer.start_tls((verify and ctx.tls_context) or ssl_context(verify), server_hostname=host)
    except TimeoutError:
        failure = CheckResult.failure(ErrorKind.connect_timeout, f"no TLS session within {timeout_s * 1000:.0f} ms")
    except ssl.SSLCertVerificationError as exc:
        failure = CheckResult.failure(ErrorKind.tls, f"{NOT_VALID}: {exc.verify_message}")
    except (ssl.SSLError, ConnectionError) as exc:
        failure = CheckResult.failure(ErrorKind.tls, f"TLS handshake failed: {exc}")
    else:
        tls_us = int((time.perf_counter() - t0) * 1e6)
        cert = from_ssl_object(writer.get_extra_info("ssl_object"))
        await close_quietly(writer)
        return cert, None, timings.connect_us, tls_us
    if isinstance(writer, asyncio.StreamWriter):
        writer.transport.abort()
    return None, failure, 0, 0


def parse_target(target: str) -> tuple[str, int]:
    return host_port(target, "tls", DEFAULT_PORT)


async def check(spec: MonitorSpec, opts: TlsOptions, ctx: CheckContext) -> CheckResult:
    host, port = parse_target(spec.target)
    timeout_s = spec.timeout_ms / 1000
    cert, failure, connect_us, tls_us = await _handshake(host, port, not opts.tls_skip_verify, ctx, timeout_s)
    if failure is not None:
        if failure.error.startswith(NOT_VALID):  # record what the server presented anyway
            seen, *_ = await _handshake(host, port, False, ctx, timeout_s)
            if seen:
                failure.detail["certificate"] = seen.as_dict()
        return failure
    if cert is None:
        return CheckResult.failure(ErrorKind.tls, "the server presented no certificate")
    result = CheckResult(up=True, detail={"certificate": cert.as_dict()})
    result.timings.connect_us, result.timings.tls_us = connect_us, tls_us
    days = cert.days_left()
    if days < opts.cert_min_days:
        result.up, result.error_kind = False, ErrorKind.cert_expiring
        result.error = (f"certificate expires in {days:.1f} days (threshold {opts.cert_min_days})"
                        if days >= 0 else f"certificate expired {-days:.1f} days ago")
    return result


KIND = Kind(
    check=check, options=TlsOptions, parse_target=parse_target, schemes=("tls",), usage="tls://host[:port]",
    destinations=lambda target, opts: [Destination(*parse_target(target))], flags=(
        flag("--cert-min-days", "cert_min_days", "down when fewer days are left", type=int),
        flag("--insecure", "tls_skip_verify", "do not verify the certificate chain and name",
             action="store_true", default=None),
    ))
