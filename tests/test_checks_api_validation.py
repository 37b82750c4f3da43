"""Monitor API validation for every kind: targets and kind-specific expectations are
checked, and a bad one is a 400 naming the field."""

from __future__ import annotations

import pytest

M = "/api/v1/monitors"


def _named_fields(body: dict) -> list[str]:
    """Fields a 400 names: in its detail, or as the keys of its extra entries."""
    return [body["detail"]] + [e.get("key") or "" for e in body.get("extra", [])]


@pytest.mark.parametrize("monitor", [
    {"kind": "http", "target": "https://example.com/health",
     "expectations": {"method": "POST", "body": "{}", "headers": {"X-Key": "1"}, "status_codes": [200, 204],
                      "keyword": "ok", "json_path": "$.status", "json_equals": "ok", "max_redirects": 3,
                      "tls_skip_verify": True, "max_body_bytes": 4096, "attempts": 3}},
    {"kind": "http", "target": "http://example.com/", "expectations": {"keyword": "error", "keyword_absent": True}},
    {"kind": "http", "target": "http://example.com/", "expectations": {"json_path": "error", "json_equals": None}},
    {"kind": "tcp", "target": "tcp://db.example.com:5432", "expectations": {"attempts": 2}},
    {"kind": "dns", "target": "dns://example.com?type=MX",
     "expectations": {"expected": ["10 mx.example.com."], "resolver": "1.1.1.1:53"}},
    {"kind": "tls", "target": "tls://example.com", "expectations": {"cert_min_days": 21}},
    {"kind": "tls", "target": "tls://example.com:8443"},
    {"kind": "heartbeat", "target": "heartbeat://nightly-backup", "expectations": {"grace_s": 300}},
])
async def test_valid_monitor_of_every_kind_is_created_and_read_back(client, auth, monitor):
    r = await client.post(M, headers=auth, json={"name": "m", **monitor})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == monitor["kind"]
    expected = monitor.get("expectations", {})
    assert body["expectations"] == expected  # stored as given, defaults left out


@pytest.mark.parametrize(("monitor", "field"), [
    ({"kind": "http", "target": "ftp://example.com"}, "target"),
    ({"kind": "tcp", "target": "tcp://example.com"}, "target"),
    ({"kind": "tcp", "target": "https://example.com"}, "target"),
    ({"kind": "dns", "target": "dns://example.com?type=BOGUS"}, "target"),
    ({"kind": "tls", "target": "https://example.com"}, "target"),
    ({"kind": "heartbeat", "target": "https://example.com"}, "target"),
    ({"kind": "smtp", "target": "smtp://example.com"}, "kind"),
    ({"kind": "tcp", "target": "tcp://a.example:1", "expectations": {"keyword": "x"}}, "expectations.tcp.keyword"),
    ({"kind": "http", "target": "https://a.example", "expectations": {"status_codes": [700]}},
     "expectations.http.status_codes.0"),
    ({"kind": "http", "target": "https://a.example", "expectations": {"method": "BREW"}}, "expectations.http.method"),
    ({"kind": "http", "target": "https://a.example", "expectations": {"json_path": "a.b"}}, "expectations.http"),
    ({"kind": "http", "target": "https://a.example", "expectations": {"headers": {"X-A": "a\r\nb"}}},
     "expectations.http.headers.X-A"),
    ({"kind": "http", "target": "https://a.example", "expectations": {"max_body_bytes": 10}},
     "expectations.http.max_body_bytes"),
    ({"kind": "dns", "target": "dns://a.example", "expectations": {"resolver": "dns.google"}},
     "expectations.dns.resolver"),
    ({"kind": "tls", "target": "tls://a.example", "expectations": {"cert_min_days": -1}},
     "expectations.tls.cert_min_days"),
    ({"kind": "heartbeat", "target": "heartbeat://x", "expectations": {"grace_s": "soon"}},
     "expectations.heartbeat.grace_s"),
    ({"kind": "http", "target": "https://a.example", "expectations": {"attempts": 0}}, "expectations.http.attempts"),
])
async def test_bad_target_or_expectation_is_400_naming_the_field(client, auth, monitor, field):
    r = await client.post(M, headers=auth, json={"name": "m", **monitor})
    assert r.status_code == 400, r.text
    assert any(field == named or f"for {field}" in named for named in _named_fields(r.json())), r.json()


async def test_changing_the_kind_revalidates_the_expectations(client, auth):
    r = await client.post(M, headers=auth, json={"name": "m", "target": "https://a.example",
                                                 "expectations": {"keyword": "ok"}})
    monitor_id = r.json()["id"]
    r = await client.patch(f"{M}/{monitor_id}", headers=auth, json={"kind": "tcp", "target": "tcp://a.example:80"})
    assert r.status_code == 400 and any("expectations.tcp.keyword" in f for f in _named_fields(r.json()))
    r = await client.patch(f"{M}/{monitor_id}", headers=auth,
                           json={"kind": "tcp", "target": "tcp://a.example:80", "expectations": {}})
    assert r.status_code == 200 and r.json()["kind"] == "tcp"


@pytest.mark.parametrize(("headers", "field"), [
    ({"X-A": "a\x0bb"}, "expectations.http.headers.X-A"),
    ({"X-A": "a\x0cb"}, "expectations.http.headers.X-A"),
    ({"X-A": "a\x85b"}, "expectations.http.headers.X-A"),
    ({"X-A": "a\u2028b"}, "expectations.http.headers.X-A"),
    ({"Host": "internal.example"}, "expectations.http.headers.Host.[key]"),
    ({"Transfer-Encoding": "chunked"}, "expectations.http.headers.Transfer-Encoding.[key]"),
    ({"content-length": "0"}, "expectations.http.headers.content-length.[key]"),
    ({"Connection": "keep-alive"}, "expectations.http.headers.Connection.[key]"),
    ({"Proxy-Authorization": "Basic x"}, "expectations.http.headers.Proxy-Authorization.[key]"),
    ({"TE": "trailers"}, "expectations.http.headers.TE.[key]"),
    ({f"X-{i}": "1" for i in range(33)}, "expectations.http.headers"),
    ({"X-A": "x" * 5000, "X-B": "x" * 5000}, "expectations.http.headers"),
])
async def test_unsafe_or_oversized_check_headers_are_400_naming_the_header(client, auth, headers, field):
    r = await client.post(M, headers=auth, json={"name": "m", "target": "https://a.example",
                                                  "expectations": {"headers": headers}})
    assert r.status_code == 400, r.text
    assert any(field == named or f"for {field}" in named for named in _named_fields(r.json())), r.json()


async def test_oversized_free_form_fields_are_refused_with_a_clear_message(client, auth):
    huge = {"name": "m", "target": "https://a.example", "expectations": {"headers": {"X-Big": "x" * 3_000_000}}}
    r = await client.post(M, headers=auth, json=huge)
    assert r.status_code == 413, r.text
    r = await client.post(M, headers=auth, json={"name": "m", "target": "https://a.example", "expectations": {
        "json_path": "$.a", "json_equals": ["x" * 100] * 50}})
    assert r.status_code == 400 and "json_equals" in r.text, r.text
    r = await client.post(M, headers=auth, json={"name": "m" * 201, "target": "https://a.example"})
    assert r.status_code == 400 and "name" in r.json()["detail"], r.text


def test_header_values_refused_by_the_http_client_are_refused_by_validation():
    """Everything aiohttp refuses when it writes a header is refused at the API already."""
    from aiohttp.http_writer import _safe_header

    from ingest.checks.headers import check_value

    for code in [*range(0x2030), 0xFEFF]:
        ch = chr(code)
        try:
            _safe_header(f"a{ch}b")
        except ValueError:
            with pytest.raises(ValueError):
                check_value(f"a{ch}b")
