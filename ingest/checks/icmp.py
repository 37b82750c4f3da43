"""ICMP check: ``count`` echo requests to ``icmp://host`` (or a bare host), ``interval_ms``
apart; packet loss, round-trip min/avg/max and jitter in the result's detail, the average
round trip as its latency. Up when at least one reply came back and no more than
``max_loss_pct`` of the echoes were lost.

Echoes go through icmplib, on an unprivileged ICMP (datagram) socket where the kernel
opens one to this process (its group inside ``net.ipv4.ping_group_range``), otherwise on a
raw socket where the process may open one (root, or CAP_NET_RAW). The datagram socket is
preferred: the kernel hands each socket only its own replies, where every raw socket sees
every ICMP packet the host receives. A worker allowed neither is refused with a message
naming both ways to allow it.

The monitor's timeout_ms covers the whole check: each echo waits for its reply up to an
equal share of what the intervals between echoes leave of it."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from functools import cache
from typing import Literal
from urllib.parse import urlsplit

from icmplib import AsyncSocket, Host, ICMPLibError, ICMPRequest, ICMPv4Socket, ICMPv6Socket, TimeoutExceeded
from icmplib.exceptions import SocketPermissionError
from icmplib.utils import unique_identifier
from pydantic import Field

from ingest.checks.base import (
    CheckContext,
    CheckResult,
    Destination,
    Kind,
    MonitorSpec,
    Options,
    Timeouts,
    Timings,
    flag,
)
from ingest.checks.tcp import resolve_allowed
from vigil.constants import ErrorKind
from vigil.netguard import BlockedTarget

# The least time an echo waits for its reply; timeout_ms must leave this much to each one.
MIN_ECHO_WAIT_MS = 100
# The largest payload whose echo fits one 1500-byte Ethernet frame over IPv6 (40-byte IP
# and 8-byte ICMP headers), and so over IPv4 too: a larger one would be fragmented.
MAX_PAYLOAD_BYTES = 1452
PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"

# A host name (RFC 1123 labels) or an IP address; a bare target has no scheme, port or path.
_HOSTNAME = re.compile(r"^(?=.{1,253}\.?$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")


class IcmpOptions(Options):
    kind: Literal["icmp"] = "icmp"
    count: int = Field(default=3, ge=1, le=20, description="echo requests per check")
    interval_ms: int = Field(default=200, ge=10, le=5000, description="time between two echo requests")
    payload_bytes: int = Field(default=56, ge=0, le=MAX_PAYLOAD_BYTES, description="payload of each echo request")
    max_loss_pct: int = Field(default=50, ge=0, le=99,
                              description="down (packet_loss) when more echoes than this are lost, in percent")


class NotPermitted(Exception):
    """This process may open neither kind of ICMP socket."""


def parse_target(target: str) -> str:
    """The host of ``icmp://host`` or of a bare host name or address; ValueError naming the form."""
    if "://" in target:
        parts = urlsplit(target)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if (parts.scheme != "icmp" or not parts.hostname or port is not None or parts.path not in ("", "/")
                or parts.query or parts.fragment or parts.username or parts.password):
            raise ValueError(f"an icmp target must look like icmp://host (no port or path), got {target!r}")
        return parts.hostname
    host = target.strip("[]") if target.startswith("[") else target
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        if _HOSTNAME.match(host) and not host.replace(".", "").isdigit():
            return host
    raise ValueError(f"an icmp target must look like icmp://host or a bare host name or address, got {target!r}")


def needed_timeout_ms(opts: IcmpOptions) -> int:
    """The least timeout_ms the echoes need: the intervals between them, and the least wait for each reply."""
    return (opts.count - 1) * opts.interval_ms + opts.count * MIN_ECHO_WAIT_MS


def within_timeout(opts: IcmpOptions, timeout_ms: int) -> None:
    """ValueError when ``count`` echoes ``interval_ms`` apart cannot fit in timeout_ms."""
    need = needed_timeout_ms(opts)
    if timeout_ms < need:
        raise ValueError(f"timeout_ms must be at least {need} ms for count {opts.count} echoes interval_ms "
                         f"{opts.interval_ms} ms apart (each reply is waited for at least {MIN_ECHO_WAIT_MS} ms), "
                         f"got {timeout_ms}")


def echo_wait_s(opts: IcmpOptions, timeout_ms: int) -> float:
    """Each echo's share of what the intervals leave of the timeout."""
    left = timeout_ms - (opts.count - 1) * opts.interval_ms
    return max(MIN_ECHO_WAIT_MS, left // opts.count) / 1000


def _ping_group_range() -> str:
    try:
        with open(PING_GROUP_RANGE) as f:
            return " ".join(f.read().split())
    except OSError:
        return "unknown"


@cache
def socket_mode(family: int) -> str:
    """``datagram`` or ``raw``: the ICMP socket this process may open for the address
    family, tried by opening one. NotPermitted naming what is missing when neither opens.
    Only a success is remembered: a worker given the capability later need not restart."""
    proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
    for mode, sock_type in (("datagram", socket.SOCK_DGRAM), ("raw", socket.SOCK_RAW)):
        try:
            socket.socket(family, sock_type, proto).close()
            return mode
        except PermissionError:
            continue
    raise NotPermitted(
        "ICMP checks need raw sockets (CAP_NET_RAW: run the worker as root or grant it that "
        "capability) or unprivileged ICMP sockets (the worker's group inside net.ipv4.ping_group_range, "
        f"which is {_ping_group_range()!r} here while the worker runs as uid {os.getuid()} gid {os.getgid()}); "
        "this process has neither")


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


async def _echoes(address: str, privileged: bool, opts: IcmpOptions, wait_s: float) -> tuple[list[float], str]:
    """The round trips (ms) of the replies that came back, and why the last lost echo was lost."""
    family = _family(address)
    sock_class = ICMPv6Socket if family == socket.AF_INET6 else ICMPv4Socket
    rtts: list[float] = []
    reason = ""
    with AsyncSocket(sock_class(privileged=privileged)) as sock:
        ident = unique_identifier()
        for sequence in range(opts.count):
            if sequence:
                await asyncio.sleep(opts.interval_ms / 1000)
            request = ICMPRequest(destination=address, id=ident, sequence=sequence, payload_size=opts.payload_bytes)
            try:
                sock.send(request)
                reply = await sock.receive(request, wait_s)
                reply.raise_for_status()
            except TimeoutExceeded:
                reason = f"no reply within {wait_s * 1000:.0f} ms"
            except ICMPLibError as exc:
                if isinstance(exc, SocketPermissionError):
                    raise
                reason = str(exc)
            else:
                rtts.append((reply.time - request.time) * 1000)
    return rtts, reason


async def check(spec: MonitorSpec, opts: IcmpOptions, ctx: CheckContext) -> CheckResult:
    host = parse_target(spec.target)
    try:
        address, dns_us = await resolve_allowed(host, 0, ctx.allow_private)
    except BlockedTarget as exc:
        return CheckResult.failure(ErrorKind.blocked_target, str(exc))
    except OSError as exc:
        return CheckResult.failure(ErrorKind.dns, f"cannot resolve {host}: {exc}")
    try:
        mode = socket_mode(_family(address))
        rtts, reason = await _echoes(address, mode == "raw", opts, echo_wait_s(opts, spec.timeout_ms))
    except (NotPermitted, SocketPermissionError) as exc:
        return CheckResult.failure(ErrorKind.not_permitted, str(exc))
    except ICMPLibError as exc:
        return CheckResult.failure(ErrorKind.unreachable, f"{address}: {exc}")
    stats = Host(address, opts.count, rtts)
    lost = opts.count - len(rtts)
    loss_pct = round(lost * 100 / opts.count, 1)
    detail = {"address": address, "socket": mode, "sent": opts.count, "received": len(rtts), "loss_pct": loss_pct,
              "rtt_ms": {"min": stats.min_rtt, "avg": stats.avg_rtt, "max": stats.max_rtt},
              "jitter_ms": stats.jitter}
    timings = Timings(dns_us=dns_us, total_us=max(1, round(sum(rtts) * 1000 / len(rtts))) if rtts else 0)
    if rtts and loss_pct <= opts.max_loss_pct:
        return CheckResult(up=True, timings=timings, detail=detail)
    return CheckResult.failure(
        ErrorKind.packet_loss, f"{lost} of {opts.count} echoes to {address} lost ({loss_pct:g} %, at most "
        f"{opts.max_loss_pct} % allowed); last: {reason}", timings=timings, detail=detail)


KIND = Kind(
    check=check, options=IcmpOptions, parse_target=parse_target, schemes=("icmp",), usage="icmp://host",
    timeouts=Timeouts(min_ms=100, default_ms=3_000, max_ms=60_000), within_timeout=within_timeout,
    destinations=lambda target, opts: [Destination(parse_target(target), 0)],
    flags=(
        flag("--count", "count", "echo requests per check", type=int),
        flag("--interval-ms", "interval_ms", "time between two echo requests, in ms", type=int),
        flag("--payload-bytes", "payload_bytes", "payload of each echo request", type=int),
        flag("--max-loss-pct", "max_loss_pct", "down when more echoes than this percentage are lost", type=int),
    ))
