"""`vigil check` as a user runs it: a real process against real local servers; exit 0
up, 1 down, 2 for a bad argument with a message naming it."""
# ruff: noqa: F811 (pytest fixtures imported from tests/checks_fixtures.py)

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from tests.checks_fixtures import dns_server, web_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(60)


async def vigil_check(*args: str, **env: str) -> tuple[int, dict | None, str]:
    """Run in a child process without blocking this loop (it serves the targets)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "vigil", "check", *args, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode, json.loads(out) if out.strip() else None, err.decode()


async def test_up_target_exits_0_with_json(web_server):
    code, result, _ = await vigil_check(f"{web_server}/health", "--json-path", "status", "--json-equals", "ok",
                                        "--allow-private")
    assert code == 0 and result["up"] is True and result["kind"] == "http" and result["status_code"] == 200
    assert set(result["timings_ms"]) == {"dns", "connect", "tls", "ttfb", "total"}


async def test_down_target_exits_1_with_its_error_kind(web_server):
    code, result, _ = await vigil_check(f"{web_server}/flaky/5", "--attempts", "2", "--allow-private")
    assert code == 1 and result["error_kind"] == "http_status" and result["attempts"] == 2


async def test_dns_kind_with_resolver_and_expected_answer(dns_server):
    code, result, _ = await vigil_check("dns://example.test?type=A", "--resolver", dns_server,
                                        "--expect", "192.0.2.10", "--allow-private")
    assert code == 0 and result["kind"] == "dns" and "192.0.2.10" in result["detail"]["answer"]


async def test_loopback_is_refused_unless_allowed(web_server):
    code, result, _ = await vigil_check(f"tcp://{web_server.removeprefix('http://')}",
                                        VIGIL_ALLOW_PRIVATE_TARGETS="0")
    assert code == 1 and result["error_kind"] == "blocked_target"


@pytest.mark.parametrize(("args", "message"), [
    (["ftp://example.com"], "unsupported URL scheme 'ftp'"),
    (["tcp://example.com"], "tcp://host:port"),
    (["tcp://example.com:22", "--keyword", "x"], "--keyword does not apply to tcp checks"),
    (["https://example.com", "--status", "700"], "--status"),
    (["dns://example.com?type=A", "--resolver", "dns.google"], "--resolver"),
    (["https://example.com", "--timeout-ms", "5"], "--timeout-ms"),
    (["https://example.com", "--attempts", "zero"], "--attempts"),
])
async def test_bad_argument_exits_2_naming_it(args, message):
    code, result, err = await vigil_check(*args)
    assert code == 2 and result is None
    assert message in err
