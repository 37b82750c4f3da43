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


@pytest.fixture
async def strict_client(settings):
    """An API that refuses private targets, as a production instance does."""
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    async with AsyncTestClient(app=create_app(settings.model_copy(update={"allow_private_targets": False}))) as c:
        yield c


def _resolves_to_loopback(name: str) -> bool:
    try:
        return all(is_forbidden(i[4][0]) for i in socket.getaddrinfo(name, 80))
    except OSError:
        return False


@pytest.mark.parametrize(("kind", "target", "expectations", "field"), [
    ("http", "http://127.1/", {}, "target"),
    ("http", "http://2130706433:8080/", {}, "target"),
    ("http", "http://0177.0.0.1/", {}, "target"),
    ("http", "http://localhost./", {}, "target"),
    ("http", "http://[::1]/", {}, "target"),
    ("tcp", "tcp://0x7f000001:5432", {}, "target"),
    ("tls", "tls://10.1.2.3", {}, "target"),
    ("http", "http://169.254.169.254/latest/meta-data", {}, "target"),
    ("dns", "dns://example.com", {"resolver": "127.0.0.1:53"}, "expectations.resolver"),
])
async def test_a_private_monitor_target_is_refused_when_created_and_updated(strict_client, auth, kind, target,
                                                                            expectations, field):
    r = await strict_client.post("/api/v1/monitors", headers=auth,
                                 json={"name": "m", "kind": kind, "target": target, "expectations": expectations})
    assert r.status_code == 400, r.text
    assert f"invalid value for {field}" in r.json()["detail"], r.text
    ok = await strict_client.post("/api/v1/monitors", headers=auth, json={"name": "m", "target": "https://8.8.8.8/"})
    assert ok.status_code == 201, ok.text
    r = await strict_client.patch(f"/api/v1/monitors/{ok.json()['id']}", headers=auth,
                                  json={"kind": kind, "target": target, "expectations": expectations})
    assert r.status_code == 400, r.text


async def test_a_name_resolving_only_to_private_addresses_is_refused_when_created(strict_client, auth):
    name = socket.gethostname()
    if not _resolves_to_loopback(name):
        pytest.skip(f"{name} does not resolve to a private address here")
    for body in ({"name": "m", "target": f"http://{name}/"},
                 {"name": "m", "kind": "tcp", "target": f"tcp://{name}:22"}):
        r = await strict_client.post("/api/v1/monitors", headers=auth, json=body)
        assert r.status_code == 400 and "resolves only to refused addresses" in r.json()["detail"], r.text
    r = await strict_client.post("/api/v1/channels", headers=auth, json={
        "name": "c", "kind": "slack", "config": {"url": f"https://{name}/services/x"}})
    assert r.status_code == 400 and "config.url" in r.json()["detail"], r.text


@pytest.mark.parametrize(("text", "address", "port", "permitted"), [
    ("127.0.0.1:8089", "127.0.0.1", 8089, True),
    ("127.0.0.1:8089", "127.0.0.1", 8090, False),
    ("127.0.0.1:8089", "127.0.0.2", 8089, False),
    ("10.0.0.0/8", "10.9.8.7", 443, True),
    ("10.0.0.0/8", "11.0.0.1", 443, False),
    ("[::1]:80,10.0.0.0/8", "::1", 80, True),
    ("[::1]:80", "::ffff:127.0.0.1", 80, False),
    ("127.0.0.1", "::ffff:127.0.0.1", 9, True),     # judged by the IPv4 address inside
    ("", "127.0.0.1", 80, False),
])
def test_allowlist_entries_name_addresses_networks_and_ports(text, address, port, permitted):
    from vigil.netguard import Policy, parse_allowlist

    assert Policy(allowed=parse_allowlist(text)).permits(address, port) is permitted


@pytest.mark.parametrize("text", ["localhost:80", "10.0.0.0/33", "127.0.0.1:0", "127.0.0.1:99999", "1.2.3.4:x"])
def test_a_bad_allowlist_setting_is_refused_naming_the_entry(text):
    from pydantic import ValidationError

    from vigil.settings import Settings

    with pytest.raises(ValidationError, match="VIGIL_ALLOWED|allowed_private_targets"):
        Settings(allowed_private_targets=text)


async def test_the_allowlist_lets_through_exactly_the_listed_address_and_port(web_server, settings, auth):
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    port = int(web_server.rsplit(":", 1)[1])
    listed = settings.model_copy(update={"allow_private_targets": False,
                                         "allowed_private_targets": f"127.0.0.1:{port}"})
    ctx = make_check_context(listed.outbound_policy())
    try:
        ok = await run_check(spec(f"http://127.0.0.1:{port}/status/200"), ctx)
        assert ok.up, ok.as_dict()
        other = await run_check(spec(f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}/status/200"), ctx)
        assert other.error_kind == ErrorKind.blocked_target, other.as_dict()
        tcp = await run_check(spec(f"tcp://127.0.0.1:{port}", kind="tcp"), ctx)
        assert tcp.up, tcp.as_dict()
    finally:
        await ctx.http.close()
    async with AsyncTestClient(app=create_app(listed)) as client:
        r = await client.post("/api/v1/monitors", headers=auth,
                              json={"name": "m", "target": f"http://127.0.0.1:{port}/status/200"})
        assert r.status_code == 201, r.text
        r = await client.post("/api/v1/monitors", headers=auth, json={"name": "m", "target": "http://127.0.0.1:1/"})
        assert r.status_code == 400, r.text
