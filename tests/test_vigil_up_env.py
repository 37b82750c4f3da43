"""`vigil up` lets its services reach the demo target and nothing else private."""

from __future__ import annotations

import pytest
from aiohttp import web

from ingest.checks.base import MonitorSpec
from ingest.context import make_check_context
from ingest.runner import run_check
from vigil.commands.demo import make_app
from vigil.commands.up import service_env
from vigil.constants import ErrorKind
from vigil.settings import Settings

pytestmark = pytest.mark.timeout(30)


def test_up_allows_exactly_the_demo_target_not_all_private_addresses():
    env = service_env({"PATH": "/bin"}, "postgresql://x", "redis://y", 8080, 8099, "k")
    assert "VIGIL_ALLOW_PRIVATE_TARGETS" not in env
    assert env["VIGIL_ALLOWED_PRIVATE_TARGETS"] == "127.0.0.1:8099"
    policy = Settings(allow_private_targets=False, allowed_private_targets=env["VIGIL_ALLOWED_PRIVATE_TARGETS"]).outbound_policy()
    assert policy.permits("127.0.0.1", 8099)
    for address, port in (("127.0.0.1", 5433), ("127.0.0.1", 6380), ("127.0.0.1", 8080), ("10.0.0.1", 8099)):
        assert not policy.permits(address, port)
    kept = service_env({"VIGIL_ALLOWED_PRIVATE_TARGETS": "10.0.0.0/8"}, "d", "r", 8080, None, "k")
    assert kept["VIGIL_ALLOWED_PRIVATE_TARGETS"] == "10.0.0.0/8"


async def test_checks_under_the_up_environment_reach_the_demo_target_only():
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    env = service_env({}, "d", "r", 8080, port, "k")
    ctx = make_check_context(Settings(allow_private_targets=False, allowed_private_targets=env["VIGIL_ALLOWED_PRIVATE_TARGETS"]).outbound_policy())

    def spec(target: str) -> MonitorSpec:
        return MonitorSpec(id=1, kind="http", target=target, timeout_ms=3000, expectations={})

    try:
        assert (await run_check(spec(f"http://127.0.0.1:{port}/ok"), ctx)).up
        other = await run_check(spec(f"http://127.0.0.1:{port - 1}/ok"), ctx)
        assert other.error_kind == ErrorKind.blocked_target
    finally:
        await ctx.http.close()
        await runner.cleanup()
