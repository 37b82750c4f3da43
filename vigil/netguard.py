"""Outbound safety: checks and webhooks refuse private, loopback, link-local, CGNAT and
cloud metadata addresses unless VIGIL_ALLOW_PRIVATE_TARGETS is set. The decision is made
on the *resolved* address, right before connecting to it, so a name that resolves to a
public address at validation and a private one later (DNS rebinding) is still refused.

Cloud metadata endpoints are refused even when private targets are allowed: a self-hosted
user may well monitor hosts on their LAN, but nothing legitimate checks the endpoint that
hands out the worker's own cloud credentials."""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import SplitResult

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


def ensure_allowed(address: str, allow_private: bool) -> None:
    if is_metadata(address):
        raise BlockedTarget(f"{address} is a cloud metadata address; checks may never reach it")
    if not allow_private and is_forbidden(address):
        raise BlockedTarget(f"{address} is a private, loopback, link-local or reserved address; "
                            "set VIGIL_ALLOW_PRIVATE_TARGETS=1 to allow it")


def guarded_socket_factory(allow_private: bool):
    """A socket factory for aiohttp/aiohappyeyeballs that refuses forbidden addresses: it
    sees the exact address about to be connected to, IP literals and redirects included."""

    def factory(addr_info) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        ensure_allowed(sockaddr[0], allow_private)
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
