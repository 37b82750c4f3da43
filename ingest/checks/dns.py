"""DNS check: ask for one record type of a name, optionally of a given resolver, and
compare the answer with the expected values.

Target: ``dns://name?type=A`` (type defaults to A). Up when the name has records of that
type and the answer contains every expected value (compared case-insensitively, without
a trailing dot, TXT strings joined and unquoted). A resolver given in the options is a
target like any other: the address guard applies. Without one, the worker's own
system resolver (/etc/resolv.conf, configured by the operator) is asked."""

from __future__ import annotations

import ipaddress
import time
from functools import cache
from typing import Annotated, Literal
from urllib.parse import parse_qs, urlsplit

import dns.asyncresolver
import dns.exception
import dns.resolver
from pydantic import Field, field_validator

from ingest.checks.base import (
    CheckContext,
    CheckResult,
    Destination,
    Kind,
    MonitorSpec,
    Options,
    Timings,
    flag,
)
from vigil.constants import ErrorKind
from vigil.netguard import BlockedTarget, ensure_allowed

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "PTR", "SRV", "CAA")


class DnsOptions(Options):
    kind: Literal["dns"] = "dns"
    expected: list[Annotated[str, Field(min_length=1, max_length=1024)]] = Field(
        default_factory=list, max_length=50, description="values the answer must contain")
    resolver: str | None = Field(default=None, max_length=64, description="IP[:port] of the resolver to ask")

    @field_validator("resolver")
    @classmethod
    def _resolver(cls, v: str | None) -> str | None:
        if v is not None:
            resolver_address(v)
        return v


def resolver_address(value: str) -> tuple[str, int]:
    """("1.1.1.1", 53) from "1.1.1.1", "1.1.1.1:5353", "[2606:4700::1111]:53" or a bare v6."""
    host, port = value, 53
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else (53 if not rest else -1)
    elif value.count(":") == 1:
        host, _, p = value.partition(":")
        port = int(p) if p.isdigit() else -1
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"resolver must be an IP address with an optional :port, got {value!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"resolver port must be 1-65535, got {value!r}")
    return host, port


def parse_target(target: str) -> tuple[str, str]:
    """(name, record type) of dns://name?type=T; ValueError naming what is wrong."""
    parts = urlsplit(target)
    if parts.scheme != "dns" or not parts.hostname:
        raise ValueError(f"a dns target must look like dns://name?type=A, got {target!r}")
    query = parse_qs(parts.query)
    unknown = set(query) - {"type"}
    if unknown:
        raise ValueError(f"unknown dns target parameter {sorted(unknown)[0]!r} (only type=)")
    rtype = query.get("type", ["A"])[-1].upper()
    if rtype not in RECORD_TYPES:
        raise ValueError(f"dns record type {rtype!r} is not one of {', '.join(RECORD_TYPES)}")
    return parts.hostname, rtype


def normalise(value: str) -> str:
    if value.startswith('"'):  # TXT: one or more quoted strings
        value = "".join(part for part in value.split('"')[1::2])
    return value.lower().rstrip(".")


@cache
def _system_resolver() -> dns.asyncresolver.Resolver:
    return dns.asyncresolver.Resolver()


async def check(spec: MonitorSpec, opts: DnsOptions, ctx: CheckContext) -> CheckResult:
    name, rtype = parse_target(spec.target)
    if opts.resolver:
        address, port = resolver_address(opts.resolver)
        try:
            ensure_allowed(address, ctx.allow_private, port)
        except BlockedTarget as exc:
            return CheckResult.failure(ErrorKind.blocked_target, str(exc))
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers, resolver.port = [address], port
    else:
        resolver = _system_resolver()
    t0 = time.perf_counter()
    try:
        answer = await resolver.resolve(name, rtype, lifetime=spec.timeout_ms / 1000,
                                        search=False, raise_on_no_answer=True)
    except dns.resolver.NXDOMAIN:
        return CheckResult.failure(ErrorKind.dns, f"{name} does not exist (NXDOMAIN)")
    except dns.resolver.NoAnswer:
        return CheckResult.failure(ErrorKind.dns, f"{name} has no {rtype} records")
    except dns.resolver.LifetimeTimeout:
        return CheckResult.failure(ErrorKind.read_timeout, f"no DNS answer within {spec.timeout_ms} ms")
    except dns.resolver.NoNameservers as exc:
        return CheckResult.failure(ErrorKind.dns, f"no resolver answered for {name}: {exc}")
    except dns.exception.DNSException as exc:
        return CheckResult.failure(ErrorKind.protocol, f"DNS error: {exc}")
    elapsed = int((time.perf_counter() - t0) * 1e6)
    values = [r.to_text() for r in answer]
    result = CheckResult(up=True, timings=Timings(dns_us=elapsed, total_us=elapsed),
                         detail={"answer": values})
    missing = sorted({normalise(e) for e in opts.expected} - {normalise(v) for v in values})
    if missing:
        result.up, result.error_kind = False, ErrorKind.assertion
        result.error = f"answer lacks {', '.join(missing)} (got {', '.join(values)[:300]})"
    return result


def destinations(target: str, opts: DnsOptions) -> list[Destination]:
    """The resolver given in the options; the system resolver is the operator's choice."""
    return [Destination(*resolver_address(opts.resolver), "expectations.resolver")] if opts.resolver else []


KIND = Kind(
    check=check, options=DnsOptions, parse_target=parse_target, schemes=("dns",), usage="dns://name?type=A",
    destinations=destinations, flags=(
        flag("--expect", "expected", "a value the answer must contain (repeatable)", action="append", metavar="VALUE"),
        flag("--resolver", "resolver", "IP[:port] of the resolver to ask"),
    ))
