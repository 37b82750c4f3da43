"""Outbound safety: the address table, and that every kind refuses forbidden targets on
the address it would actually connect to."""
# ruff: noqa: F811 (pytest fixtures imported from tests/checks_fixtures.py)

from __future__ import annotations

import socket

import aiohttp
import pytest

from ingest.checks.base import CheckContext
from ingest.checks.http_transport import TimedConnector
from ingest.context import make_check_context
from ingest.runner import run_check
from tests.checks_fixtures import ca, check_ctx, dns_server, spec, web_server  # noqa: F401 (fixtures)
from vigil.constants import ErrorKind
from vigil.netguard import BlockedTarget, ensure_allowed, guarded_socket_factory, is_forbidden, is_metadata

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(("address", "forbidden"), [
    ("8.8.8.8", False),
    ("1.1.1.1", False),
    ("2606:4700:4700::1111", False),
    ("64:ff9b::808:808", False),      # NAT64 of a public address
    ("127.0.0.1", True),
    ("127.8.9.10", True),
    ("::1", True),
    ("10.0.0.1", True),
    ("172.16.5.4", True),
    ("192.168.1.1", True),
    ("100.64.0.1", True),             # CGNAT
    ("100.127.255.254", True),
    ("169.254.1.1", True),            # link-local
    ("fe80::1%eth0", True),
    ("fc00::1", True),                # unique local
    ("0.0.0.0", True),
    ("::", True),
    ("224.0.0.1", True),              # multicast
    ("ff02::1", True),
    ("192.0.2.1", True),              # documentation
    ("198.18.0.1", True),             # benchmarking
    ("240.0.0.1", True),              # reserved
    ("255.255.255.255", True),
    ("::ffff:10.0.0.1", True),        # IPv4-mapped private
    ("::ffff:8.8.8.8", False),
    ("64:ff9b::a00:1", True),         # NAT64 of 10.0.0.1
    ("2002:a00:1::", True),           # 6to4 of 10.0.0.1
    ("[::1]", True),
])
def test_address_table(address, forbidden):
    assert is_forbidden(address) is forbidden


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "100.100.100.200",
                                     "168.63.129.16", "169.254.170.2", "::ffff:169.254.169.254"])
def test_metadata_addresses_are_refused_even_when_private_targets_are_allowed(address):
    assert is_metadata(address)
    with pytest.raises(BlockedTarget, match="metadata"):
        ensure_allowed(address, allow_private=True)


def test_private_address_is_allowed_only_when_configured():
    ensure_allowed("10.0.0.1", allow_private=True)
    with pytest.raises(BlockedTarget, match="VIGIL_ALLOW_PRIVATE_TARGETS"):
        ensure_allowed("10.0.0.1", allow_private=False)
    ensure_allowed("8.8.8.8", allow_private=False)


@pytest.fixture
async def strict_ctx():
    ctx = make_check_context(allow_private=False)
    try:
        yield ctx
    finally:
        await ctx.http.close()


@pytest.mark.parametrize(("kind", "target", "expectations"), [
    ("http", "http://127.0.0.1:{port}/status/200", {}),
    ("http", "http://localhost:{port}/status/200", {}),
    ("http", "http://[::1]:{port}/status/200", {}),
    ("http", "http://0x7f000001:{port}/status/200", {}),   # an IP in another spelling
    ("tcp", "tcp://localhost:{port}", {}),
    ("tcp", "tcp://127.0.0.1:{port}", {}),
    ("tls", "tls://127.0.0.1:{port}", {}),
    ("dns", "dns://example.test?type=A", {"resolver": "127.0.0.1:{port}"}),
])
async def test_every_kind_refuses_a_loopback_target(strict_ctx, web_server, kind, target, expectations):
    port = web_server.rsplit(":", 1)[1]
    expectations = {k: v.format(port=port) for k, v in expectations.items()}
    result = await run_check(spec(target.format(port=port), kind=kind, **expectations), strict_ctx)
    assert result.error_kind == ErrorKind.blocked_target, result.as_dict()
    assert result.attempts == 1


async def test_a_redirect_to_the_metadata_address_is_refused(web_server, check_ctx):
    result = await run_check(spec(f"{web_server}/to-metadata"), check_ctx)
    assert result.error_kind == ErrorKind.blocked_target, result.as_dict()
    assert "169.254.169.254" in result.error


class RebindingResolver(aiohttp.abc.AbstractResolver):
    """A name that looked public when the monitor was saved now resolves to loopback,
    and this resolver does no filtering of its own."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [{"hostname": host, "host": "127.0.0.1", "port": self.port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


async def test_rebinding_is_refused_at_the_socket_whatever_the_resolver_said(web_server):
    port = int(web_server.rsplit(":", 1)[1])
    connector = TimedConnector(force_close=True, resolver=RebindingResolver(port),
                               socket_factory=guarded_socket_factory(False))
    ctx = CheckContext(http=aiohttp.ClientSession(connector=connector), allow_private=False)
    try:
        result = await run_check(spec(f"http://looks-public.example:{port}/status/200"), ctx)
    finally:
        await ctx.http.close()
    assert result.error_kind == ErrorKind.blocked_target, result.as_dict()
