"""TCP, DNS and TLS certificate checks against real local servers."""
# ruff: noqa: F811 (pytest fixtures imported from tests/checks_fixtures.py)

from __future__ import annotations

import pytest

from ingest.checks.dns import normalise, parse_target, resolver_address
from ingest.runner import run_check
from tests.checks_fixtures import (  # noqa: F401 (fixtures)
    ca,
    check_ctx,
    dns_server,
    free_port,
    raw_servers,
    spec,
    tls_servers,
    web_server,
)
from vigil.constants import ErrorKind

pytestmark = pytest.mark.timeout(30)


async def test_tcp_open_port_is_up_with_connect_time(raw_servers, check_ctx):
    result = await run_check(spec(f"tcp://127.0.0.1:{raw_servers['garbage']}", kind="tcp"), check_ctx)
    assert result.up and result.timings.connect_us > 0


async def test_tcp_closed_port_is_refused(check_ctx):
    result = await run_check(spec(f"tcp://127.0.0.1:{free_port()}", kind="tcp", attempts=2), check_ctx)
    assert result.error_kind == ErrorKind.refused and result.attempts == 2


async def test_tcp_unknown_host_is_dns(check_ctx):
    result = await run_check(spec("tcp://no-such-host.invalid:80", kind="tcp"), check_ctx)
    assert result.error_kind == ErrorKind.dns


@pytest.mark.parametrize(("target", "expected", "kind"), [
    ("dns://example.test?type=A", [], ErrorKind.none),
    ("dns://example.test", ["192.0.2.10"], ErrorKind.none),
    ("dns://example.test?type=A", ["192.0.2.11", "192.0.2.10"], ErrorKind.none),
    ("dns://example.test?type=A", ["192.0.2.99"], ErrorKind.assertion),
    ("dns://example.test?type=mx", ["10 MAIL.example.test"], ErrorKind.none),
    ("dns://example.test?type=TXT", ["v=spf1 -all"], ErrorKind.none),
    ("dns://example.test?type=AAAA", [], ErrorKind.dns),          # no records of that type
    ("dns://nowhere.test?type=A", [], ErrorKind.dns),             # NXDOMAIN
])
async def test_dns_answer_is_compared(dns_server, check_ctx, target, expected, kind):
    result = await run_check(spec(target, kind="dns", expected=expected, resolver=dns_server), check_ctx)
    assert result.error_kind == kind, result.as_dict()
    assert result.up is (kind == ErrorKind.none)


async def test_dns_answer_is_reported(dns_server, check_ctx):
    result = await run_check(spec("dns://example.test", kind="dns", resolver=dns_server), check_ctx)
    assert sorted(result.detail["answer"]) == ["192.0.2.10", "192.0.2.11"] and result.timings.dns_us > 0


async def test_dns_resolver_that_never_answers_is_read_timeout(dns_server, check_ctx):
    result = await run_check(spec("dns://silent.test", kind="dns", timeout_ms=300, resolver=dns_server), check_ctx)
    assert result.error_kind == ErrorKind.read_timeout, result.as_dict()


@pytest.mark.parametrize(("value", "parsed"), [
    ("1.1.1.1", ("1.1.1.1", 53)),
    ("1.1.1.1:5353", ("1.1.1.1", 5353)),
    ("[2606:4700::1111]:53", ("2606:4700::1111", 53)),
    ("2606:4700::1111", ("2606:4700::1111", 53)),
])
def test_resolver_address_forms(value, parsed):
    assert resolver_address(value) == parsed


@pytest.mark.parametrize("value", ["dns.google", "1.1.1.1:0", "1.1.1.1:x", "[::1]:99999"])
def test_bad_resolver_is_refused_naming_it(value):
    with pytest.raises(ValueError, match="resolver"):
        resolver_address(value)


@pytest.mark.parametrize(("target", "message"), [
    ("dns://example.com?type=BOGUS", "record type"),
    ("dns://example.com?kind=A", "unknown dns target parameter"),
    ("https://example.com", "dns://name"),
])
def test_bad_dns_target_is_refused_naming_the_problem(target, message):
    with pytest.raises(ValueError, match=message):
        parse_target(target)


def test_txt_and_names_normalise():
    assert normalise('"v=spf1" " -all"') == "v=spf1 -all"
    assert normalise("Mail.Example.COM.") == "mail.example.com"


@pytest.mark.parametrize(("server", "min_days", "kind"), [
    ("valid", 14, ErrorKind.none),
    ("expiring", 14, ErrorKind.cert_expiring),
    ("expiring", 3, ErrorKind.none),
    ("self_signed", 14, ErrorKind.tls),
    ("expired", 14, ErrorKind.tls),
])
async def test_tls_certificate_days_left_against_threshold(tls_servers, check_ctx, server, min_days, kind):
    result = await run_check(spec(f"tls://localhost:{tls_servers[server]}", kind="tls", cert_min_days=min_days),
                             check_ctx)
    assert result.error_kind == kind, result.as_dict()
    cert = result.detail["certificate"]  # recorded even when the certificate is refused
    assert cert["not_after"] and cert["issuer"] and cert["subject"] is not None


async def test_tls_expired_certificate_skipping_verification_is_cert_expiring(tls_servers, check_ctx):
    result = await run_check(spec(f"tls://localhost:{tls_servers['expired']}", kind="tls",
                                  tls_skip_verify=True), check_ctx)
    assert result.error_kind == ErrorKind.cert_expiring and "expired" in result.error
    assert result.detail["certificate"]["days_left"] < 0


async def test_tls_timings_split_connect_and_handshake(tls_servers, check_ctx):
    result = await run_check(spec(f"tls://localhost:{tls_servers['valid']}", kind="tls"), check_ctx)
    assert result.up and result.timings.connect_us > 0 and result.timings.tls_us > 0


async def test_tls_to_a_plain_http_port_is_tls(web_server, check_ctx):
    port = web_server.rsplit(":", 1)[1]
    result = await run_check(spec(f"tls://127.0.0.1:{port}", kind="tls"), check_ctx)
    assert result.error_kind == ErrorKind.tls, result.as_dict()


@pytest.mark.parametrize("target", ["tls://example.com:0", "tcp://example.com:0"])
def test_an_explicit_port_zero_is_refused_not_replaced_by_the_default(target):
    from ingest.checks.tcp import host_port

    scheme = target.split(":", 1)[0]
    with pytest.raises(ValueError, match="must look like"):
        host_port(target, scheme, 443 if scheme == "tls" else None)


def test_redis_urls_in_cli_errors_hide_their_password():
    from vigil.clierrors import safe_redis_url

    assert safe_redis_url("redis://:s3cret@10.0.0.5:6379/0") == "redis://:***@10.0.0.5:6379/0"
    assert safe_redis_url("redis://vigil:s3cret@h/0") == "redis://vigil:***@h/0"
    assert safe_redis_url("redis://127.0.0.1:6380/0") == "redis://127.0.0.1:6380/0"
