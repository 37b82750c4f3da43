"""Outbound safety: checks and webhooks refuse private, loopback, link-local, CGNAT and
cloud metadata addresses unless VIGIL_ALLOW_PRIVATE_TARGETS is set, or the address (and
port) is listed in VIGIL_ALLOWED_PRIVATE_TARGETS. The decision is made on the *resolved*
address, right before connecting to it, so a name that resolves to a public address at
validation and a private one later (DNS rebinding) is still refused. The API applies the
same rules when a monitor or channel is saved, so a refused target is a 400 at once.

Cloud metadata endpoints are refused even when private targets are allowed: a self-hosted
user may well monitor hosts on their LAN, but nothing legitimate checks the endpoint that
hands out the worker's own cloud credentials."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult

import aiohttp

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle ...
    "169.254.170.2",    # AWS ECS task metadata
    "fd00:ec2::254",    # AWS IPv6 instance metadata
    "fd00:ec2::23",     # AWS IPv6 time sync / DNS
    "100.100.100.200",  # Alibaba Cloud
    "168.63.129.16",    # Azure wire server (a public address, so named here)
))
# IPv6 prefixes that carry an IPv4 address inside them: judged by that IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class BlockedTarget(OSError):
    """The target resolves to an address that outbound requests may not reach.

    An OSError so that HTTP clients report it as a connection failure with this cause."""


def _embedded_v4(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def parse(address: str) -> IPAddress:
    """An address as a getaddrinfo sockaddr gives it (may carry a %scope) or in brackets."""
    return ipaddress.ip_address(address.strip("[]").split("%", 1)[0])


@lru_cache(maxsize=65_536)  # every check asks; ipaddress's range tests cost tens of µs
def is_metadata(address: str) -> bool:
    ip = parse(address)
    return ip in METADATA_ADDRESSES or _embedded_v4(ip) in METADATA_ADDRESSES


@lru_cache(maxsize=65_536)
def is_forbidden(address: str) -> bool:
    """True for anything but a globally routable unicast address (private, loopback,
    link-local, CGNAT, reserved, documentation, multicast, unspecified, metadata)."""
    ip = _embedded_v4(parse(address))
    return (not ip.is_global or ip.is_multicast or ip in _CGNAT or ip in METADATA_ADDRESSES)


_ENTRY = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<net>[^:]+|[0-9a-fA-F:]+(?:/\d+)?))(?::(?P<port>\d+))?$")


@dataclass(frozen=True, slots=True)
class Policy:
    """Which forbidden addresses outbound requests may reach after all: every one
    (allow_private), or only the listed networks, each on any port or on one port."""

    allow_private: bool = False
    allowed: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int | None], ...] = ()

    def permits(self, address: str, port: int | None = None) -> bool:
        if self.allow_private:
            return True
        ip = _embedded_v4(parse(address))
        return any(ip.version == net.version and ip in net and (want is None or want == port)
                   for net, want in self.allowed)


def parse_allowlist(text: str) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int | None], ...]:
    """``127.0.0.1:8089,10.0.0.0/8,[::1]:80`` as (network, port or None) pairs; ValueError
    naming the entry that is not an address or network with an optional port."""
    out = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        m = _ENTRY.match(entry)
        if m is None and ":" in entry:  # a bare IPv6 address or network, no port
            m = _ENTRY.match(f"[{entry}]")
        try:
            net = ipaddress.ip_network(m["v6"] or m["net"]) if m else None
            port = int(m["port"]) if m and m["port"] else None
        except ValueError:
            net = None
        if net is None or (port is not None and not 1 <= port <= 65535):
            raise ValueError(f"{entry!r} is not an address or network with an optional :port")
        out.append((net, port))
    return tuple(out)


def policy_of(allow_private: bool | Policy) -> Policy:
    return allow_private if isinstance(allow_private, Policy) else Policy(allow_private=bool(allow_private))


def ensure_allowed(address: str, allow_private: bool | Policy, port: int | None = None) -> None:
    if is_metadata(address):
        raise BlockedTarget(f"{address} is a cloud metadata address; checks may never reach it")
    if is_forbidden(address) and not policy_of(allow_private).permits(address, port):
        raise BlockedTarget(f"{address} is a private, loopback, link-local or reserved address; "
                            "list it in VIGIL_ALLOWED_PRIVATE_TARGETS (or set VIGIL_ALLOW_PRIVATE_TARGETS=1) "
                            "to allow it")


def literal_address(host: str) -> IPAddress | None:
    """The address a host names by itself, read the way the system resolver reads it:
    brackets and one trailing dot dropped, and IPv4 in the short, decimal, octal and hex
    forms inet_aton takes (``127.1``, ``2130706433``, ``0177.0.0.1``, ``0x7f000001``)."""
    host = host.strip("[]")
    host = host[:-1] if host.endswith(".") else host
    try:
        return parse(host)
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fA-FxX.]+", host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_localhost(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def check_literal(host: str, port: int | None, allow_private: bool | Policy) -> bool:
    """For a host that is an address in any spelling (or localhost): ValueError if it is
    refused, else True. False for a name, which only resolving can judge."""
    literal = literal_address(host)
    if literal is None and is_localhost(host):
        literal = ipaddress.ip_address("127.0.0.1")
    if literal is None:
        return False
    try:
        ensure_allowed(str(literal), allow_private, port)
    except BlockedTarget as exc:
        shown = host if host.strip("[]") == str(literal) else f"{host} ({literal})"
        raise ValueError(f"{shown}{str(exc)[len(str(literal)):]}") from None
    return True


def default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


async def check_destination(host: str, port: int | None, allow_private: bool | Policy,
                            resolve_timeout_s: float = 2.0) -> None:
    """ValueError if outbound requests to host:port would be refused: a literal forbidden
    address in any spelling, localhost, or a name whose addresses are all refused. A name
    that does not resolve (yet) passes: the check reports that, and the socket guard still
    judges whatever it resolves to later."""
    policy = policy_of(allow_private)
    if check_literal(host, port, policy):
        return
    try:
        infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(
            host.rstrip("."), port or 0, type=socket.SOCK_STREAM), resolve_timeout_s)
    except (OSError, TimeoutError, UnicodeError):
        return
    addresses = {info[4][0] for info in infos}
    refused = []
    for address in addresses:
        try:
            ensure_allowed(address, policy, port)
            return
        except BlockedTarget as exc:
            refused.append(exc)
    if refused:
        raise ValueError(f"{host} resolves only to refused addresses ({', '.join(sorted(addresses))}); "
                         f"{str(refused[0]).split('; ', 1)[1]}")


def guarded_socket_factory(allow_private: bool | Policy):
    """A socket factory for aiohttp/aiohappyeyeballs that refuses forbidden addresses: it
    sees the exact address about to be connected to, IP literals and redirects included."""
    policy = policy_of(allow_private)

    def factory(addr_info) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        ensure_allowed(sockaddr[0], policy, sockaddr[1])
        sock = socket.socket(family=family, type=type_, proto=proto)
        sock.setblocking(False)
        return sock

    return factory


def valid_port(parts: SplitResult) -> bool:
    """No port, or one from 1 to 65535 (urlsplit raises only when .port is read)."""
    try:
        port = parts.port
    except ValueError:
        return False
    return port is None or 1 <= port <= 65535


class GuardedResolver(aiohttp.ThreadedResolver):
    """Drops forbidden addresses from a name's answers; a name with nothing left is refused
    with a clear reason. The socket factory below is the final word; this gives the error."""

    def __init__(self, allow_private: bool | Policy) -> None:
        super().__init__()
        self.policy = policy_of(allow_private)

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[Any]:
        infos = await super().resolve(host, port, family)
        allowed = [i for i in infos if not is_metadata(i["host"])
                   and (not is_forbidden(i["host"]) or self.policy.permits(i["host"], i["port"]))]
        if not allowed:
            addresses = ", ".join(sorted({i["host"] for i in infos}))
            raise BlockedTarget(f"{host} resolves only to refused addresses ({addresses}); "
                                "private targets need VIGIL_ALLOWED_PRIVATE_TARGETS or VIGIL_ALLOW_PRIVATE_TARGETS=1")
        return allowed
