"""TCP check: the port accepts a connection."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from ingest.checks.base import CheckContext, CheckResult, MonitorSpec, Timings
from vigil.constants import ErrorKind
from vigil.netguard import BlockedTarget, ensure_allowed


def parse_target(target: str) -> tuple[str, int]:
    parts = urlsplit(target if "://" in target else f"tcp://{target}")
    if not parts.hostname or not parts.port:
        raise ValueError(f"TCP target must be tcp://host:port, got {target!r}")
    return parts.hostname, parts.port


async def check(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    host, port = parse_target(spec.target)
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    try:
        infos = await loop.getaddrinfo(host, port, type=0, proto=6)
    except OSError as exc:
        return CheckResult.failure(ErrorKind.dns, f"cannot resolve {host}: {exc}")
    t_dns = time.perf_counter()
    address = infos[0][4][0]
    try:
        ensure_allowed(address, ctx.allow_private)
    except BlockedTarget as exc:
        return CheckResult.failure(ErrorKind.blocked_target, str(exc))
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port),
                                           spec.timeout_ms / 1000)
    except ConnectionRefusedError:
        return CheckResult.failure(ErrorKind.refused, f"connection to {host}:{port} refused")
    except TimeoutError:
        return CheckResult.failure(ErrorKind.connect_timeout, f"no answer within {spec.timeout_ms} ms")
    except OSError as exc:
        return CheckResult.failure(ErrorKind.unreachable, f"{host}:{port}: {exc}")
    t_conn = time.perf_counter()
    writer.close()
    timings = Timings(dns_us=int((t_dns - t0) * 1e6), connect_us=int((t_conn - t_dns) * 1e6),
                      total_us=int((t_conn - t0) * 1e6))
    return CheckResult(up=True, timings=timings)
