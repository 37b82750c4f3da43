"""TCP check: the port accepts a connection (on the first allowed resolved address)."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Literal
from urllib.parse import urlsplit

from ingest.checks.base import CheckContext, CheckResult, Destination, Kind, MonitorSpec, Options, Timings
from vigil.constants import ErrorKind
from vigil.netguard import BlockedTarget, Policy, ensure_allowed


class TcpOptions(Options):
    kind: Literal["tcp"] = "tcp"


def host_port(target: str, scheme: str, default_port: int | None = None) -> tuple[str, int]:
    """(host, port) of ``scheme://host:port``; ValueError naming what is wrong."""
    parts = urlsplit(target if "://" in target else f"{scheme}://{target}")
    try:
        port = parts.port
    except ValueError:
        port = None
    else:
        if port is None:  # absent; an explicit :0 stays 0 and is refused below
            port = default_port
    if parts.scheme != scheme or not parts.hostname or not port:
        form = f"{scheme}://host" + ("[:port]" if default_port else ":port")
        raise ValueError(f"a {scheme} target must look like {form}, got {target!r}")
    return parts.hostname, port


async def resolve_allowed(host: str, port: int, allow_private: bool | Policy) -> tuple[str, int]:
    """The first resolved address the guard allows, and the DNS time in µs.

    Raises OSError (socket.gaierror) when the name does not resolve, BlockedTarget when
    every address is refused."""
    t0 = time.perf_counter()
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    dns_us = int((time.perf_counter() - t0) * 1e6)
    refused: BlockedTarget | None = None
    for *_, sockaddr in infos:
        try:
            ensure_allowed(sockaddr[0], allow_private, sockaddr[1])
            return sockaddr[0], dns_us
        except BlockedTarget as exc:
            refused = exc
    raise refused or OSError(f"{host} has no address")


async def connect(host: str, port: int, ctx: CheckContext, timeout_s: float, **kw) -> tuple[
        asyncio.StreamWriter | CheckResult, Timings]:
    """Resolve, guard and connect: the writer, or the failure as a CheckResult."""
    timings = Timings()
    try:
        address, timings.dns_us = await resolve_allowed(host, port, ctx.allow_private)
    except BlockedTarget as exc:
        return CheckResult.failure(ErrorKind.blocked_target, str(exc)), timings
    except OSError as exc:
        return CheckResult.failure(ErrorKind.dns, f"cannot resolve {host}: {exc}"), timings
    t0 = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port, **kw), timeout_s)
    except ConnectionRefusedError:
        return CheckResult.failure(ErrorKind.refused, f"connection to {host}:{port} refused"), timings
    except TimeoutError:
        return CheckResult.failure(ErrorKind.connect_timeout, f"no connection within {timeout_s * 1000:.0f} ms"), timings
    except ConnectionResetError as exc:
        return CheckResult.failure(ErrorKind.reset, f"{host}:{port}: {exc}"), timings
    except OSError as exc:
        return CheckResult.failure(ErrorKind.unreachable, f"{host}:{port}: {exc}"), timings
    timings.connect_us = int((time.perf_counter() - t0) * 1e6)
    return writer, timings


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass  # the peer reset a connection we were done with anyway


def parse_target(target: str) -> tuple[str, int]:
    return host_port(target, "tcp")


async def check(spec: MonitorSpec, opts: TcpOptions, ctx: CheckContext) -> CheckResult:
    host, port = parse_target(spec.target)
    t0 = time.perf_counter()
    writer, timings = await connect(host, port, ctx, spec.timeout_ms / 1000)
    if isinstance(writer, CheckResult):
        return writer
    await close_quietly(writer)
    timings.total_us = int((time.perf_counter() - t0) * 1e6)
    return CheckResult(up=True, timings=timings)


KIND = Kind(check=check, options=TcpOptions, parse_target=parse_target, schemes=("tcp",), usage="tcp://host:port",
            destinations=lambda target, opts: [Destination(*parse_target(target))])
