"""Every way a target can fail, against real local servers, classified as the right kind."""
# ruff: noqa: F811 (pytest fixtures imported from tests/checks_fixtures.py)

from __future__ import annotations

import pytest

from ingest.runner import run_check
from tests.checks_fixtures import (  # noqa: F401 (fixtures)
    blackhole_port,
    ca,
    check_ctx,
    free_port,
    raw_servers,
    spec,
    tls_servers,
    web_server,
)
from vigil.constants import ErrorKind

pytestmark = pytest.mark.timeout(30)

HTTP_CASES = [
    # (path, expectations, timeout_ms, expected kind, expected status)
    ("/status/200", {}, 1000, ErrorKind.none, 200),
    ("/status/404", {}, 1000, ErrorKind.http_status, 404),
    ("/status/500", {}, 1000, ErrorKind.http_status, 500),
    ("/status/503", {}, 1000, ErrorKind.http_status, 503),
    ("/status/404", {"status_codes": [404]}, 1000, ErrorKind.none, 404),
    ("/slow", {}, 300, ErrorKind.read_timeout, 0),
    ("/loop", {"max_redirects": 5}, 1000, ErrorKind.too_many_redirects, 0),
    ("/hop/3", {"max_redirects": 5}, 1000, ErrorKind.none, 200),
    ("/hop/3", {"max_redirects": 2}, 1000, ErrorKind.too_many_redirects, 0),
    ("/loop", {"max_redirects": 0}, 1000, ErrorKind.none, 302),
    ("/big", {}, 1000, ErrorKind.none, 200),
    ("/big", {"keyword": "needle", "max_body_bytes": 65536}, 1000, ErrorKind.body_too_large, 200),
    ("/big", {"keyword": "xxxx", "max_body_bytes": 65536}, 1000, ErrorKind.none, 200),
    ("/big", {"keyword": "needle"}, 1000, ErrorKind.none, 200),
    ("/status/200", {"keyword": "status page"}, 1000, ErrorKind.none, 200),
    ("/status/200", {"keyword": "missing words"}, 1000, ErrorKind.assertion, 200),
    ("/status/200", {"keyword": "status", "keyword_absent": True}, 1000, ErrorKind.assertion, 200),
    ("/status/200", {"keyword": "error", "keyword_absent": True}, 1000, ErrorKind.none, 200),
    ("/health", {"json_path": "status", "json_equals": "ok"}, 1000, ErrorKind.none, 200),
    ("/health", {"json_path": "$.checks.0.ok", "json_equals": True}, 1000, ErrorKind.none, 200),
    ("/health", {"json_path": "version", "json_equals": 3}, 1000, ErrorKind.none, 200),
    ("/health", {"json_path": "status", "json_equals": "degraded"}, 1000, ErrorKind.assertion, 200),
    ("/health", {"json_path": "checks.5.ok", "json_equals": True}, 1000, ErrorKind.assertion, 200),
    ("/health", {"json_path": "$.checks.0.ok", "json_equals": 1}, 1000, ErrorKind.assertion, 200),
    ("/status/200", {"json_path": "status", "json_equals": "ok"}, 1000, ErrorKind.assertion, 200),
]


@pytest.mark.parametrize(("path", "expectations", "timeout_ms", "kind", "status"), HTTP_CASES,
                         ids=[f"{c[0]}-{c[3].name}-{i}" for i, c in enumerate(HTTP_CASES)])
async def test_http_outcome_is_classified(web_server, check_ctx, path, expectations, timeout_ms, kind, status):
    result = await run_check(spec(web_server + path, timeout_ms=timeout_ms, **expectations), check_ctx)
    assert result.error_kind == kind, result.as_dict()
    assert result.up is (kind == ErrorKind.none)
    assert result.status_code == status


@pytest.mark.parametrize(("server", "kind"), [
    ("hang", ErrorKind.read_timeout),
    ("reset", ErrorKind.reset),
    ("garbage", ErrorKind.protocol),
])
async def test_misbehaving_server_is_classified(raw_servers, check_ctx, server, kind):
    result = await run_check(spec(f"http://127.0.0.1:{raw_servers[server]}/", timeout_ms=400), check_ctx)
    assert result.error_kind == kind, result.as_dict()
    assert not result.up


async def test_closed_port_is_refused(check_ctx):
    result = await run_check(spec(f"http://127.0.0.1:{free_port()}/"), check_ctx)
    assert result.error_kind == ErrorKind.refused, result.as_dict()


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/", "tcp://127.0.0.1:{port}"])
async def test_no_connection_within_the_timeout_is_connect_timeout(blackhole_port, check_ctx, target):
    kind = target.split(":")[0]
    result = await run_check(spec(target.format(port=blackhole_port), kind=kind, timeout_ms=300), check_ctx)
    assert result.error_kind == ErrorKind.connect_timeout, result.as_dict()


@pytest.mark.parametrize(("target", "kind"), [("https://localhost:{port}/", "http"), ("tls://localhost:{port}", "tls")])
async def test_tls_handshake_never_answered_is_connect_timeout(raw_servers, check_ctx, target, kind):
    result = await run_check(spec(target.format(port=raw_servers["hang"]), kind=kind, timeout_ms=300), check_ctx)
    assert result.error_kind == ErrorKind.connect_timeout, result.as_dict()


async def test_unresolvable_name_is_dns(check_ctx):
    result = await run_check(spec("http://no-such-host.invalid/"), check_ctx)
    assert result.error_kind == ErrorKind.dns, result.as_dict()


@pytest.mark.parametrize(("server", "kind", "message"), [
    ("valid", ErrorKind.none, ""),
    ("self_signed", ErrorKind.tls, "certificate verify failed"),
    ("expired", ErrorKind.tls, "certificate has expired"),
])
async def test_https_certificate_problems_are_tls(tls_servers, check_ctx, server, kind, message):
    result = await run_check(spec(f"https://localhost:{tls_servers[server]}/status/200"), check_ctx)
    assert result.error_kind == kind, result.as_dict()
    assert message in result.error


async def test_https_can_skip_verification(tls_servers, check_ctx):
    result = await run_check(spec(f"https://localhost:{tls_servers['self_signed']}/status/200",
                                  tls_skip_verify=True), check_ctx)
    assert result.up, result.as_dict()
    assert result.detail["certificate"]["days_left"] > 300


async def test_https_timings_split_connect_from_tls(tls_servers, check_ctx):
    result = await run_check(spec(f"https://localhost:{tls_servers['valid']}/status/200"), check_ctx)
    t = result.timings
    assert result.up and t.dns_us > 0 and t.connect_us > 0 and t.tls_us > 0 and t.ttfb_us > 0
    assert t.total_us >= t.dns_us + t.connect_us + t.tls_us + t.ttfb_us
    cert = result.detail["certificate"]
    assert 399 < cert["days_left"] <= 400 and "localhost" not in cert["issuer"]


async def test_plain_http_has_no_tls_phase(web_server, check_ctx):
    result = await run_check(spec(web_server + "/status/200"), check_ctx)
    assert result.timings.connect_us > 0 and result.timings.tls_us == 0 and result.timings.dns_us == 0


async def test_method_headers_and_body_are_sent(web_server, check_ctx):
    result = await run_check(spec(web_server + "/echo", method="POST", body="ping", headers={"X-Token": "t1"},
                                  json_path="body", json_equals="ping"), check_ctx)
    assert result.up, result.as_dict()
    result = await run_check(spec(web_server + "/echo", method="PUT", headers={"X-Token": "t1"},
                                  json_path="x_token", json_equals="t2"), check_ctx)
    assert result.error_kind == ErrorKind.assertion and "expected \"t2\"" in result.error
