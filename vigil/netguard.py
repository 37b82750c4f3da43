"""Outbound safety: checks and webhooks refuse private, loopback, link-local and cloud
metadata addresses unless VIGIL_ALLOW_PRIVATE_TARGETS is set. The decision is made on
the *resolved* address, at connect time, so a name that resolves to a public address at
validation and a private one later (DNS rebinding) is still refused."""

from __future__ import annotations

import ipaddress

# Cloud metadata endpoints that are not covered by the private/link-local ranges.
_METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}


class BlockedTarget(OSError):
    """The target resolves to an address that outbound requests may not reach.

    An OSError so that HTTP clients report it as a connection failure with this cause."""


def is_forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip in _METADATA or ip.is_private or ip.is_loopback or ip.is_link_local
            or ip.is_multicast or ip.is_reserved or ip.is_unspecified
            or ip in ipaddress.ip_network("100.64.0.0/10"))


def ensure_allowed(address: str, allow_private: bool) -> None:
    if not allow_private and is_forbidden(address):
        raise BlockedTarget(f"{address} is a private, loopback or link-local address; "
                            "set VIGIL_ALLOW_PRIVATE_TARGETS=1 to allow it")
