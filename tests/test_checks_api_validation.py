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
    ({"kind": "icmp", "target": "icmp://example.com"}, "kind"),
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
