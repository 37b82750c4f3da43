"""ICMP checks against 127.0.0.1: on a raw socket (this process runs as root), on an
unprivileged ICMP socket and refused for want of either (each in a child process that
drops root inside a network namespace of its own, where ping_group_range can be set
without touching the machine's), packet loss from a host that answers only some echoes,
and the options, targets and address guard at the API and `vigil check`."""
# ruff: noqa: F811 (pytest fixtures imported from tests/checks_fixtures.py)

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.checks import icmp
from ingest.runner import run_check
from ingest.worker import run_batch, shutdown, startup
from tests.checks_fixtures import ca, check_ctx, spec  # noqa: F401 (fixtures)
from vigil.constants import ErrorKind

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent
NOBODY = 65534


def _netns_works() -> bool:
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv") and shutil.which("ip")):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


needs_netns = pytest.mark.skipif(not _netns_works(), reason="needs root with unshare, setpriv and ip "
                                 "(a network namespace of the test's own)")


def in_netns(setup: str, *args: str, user: list[str] | None = None, background: str = "",
             ready: str = "") -> tuple[int, dict, str]:
    """`vigil check ARGS` in a new network namespace: loopback up, ``setup`` sysctls
    applied, ``background`` started (the check waits for it to create the file ``ready``),
    then the check run as the ``user`` setpriv options give (root when None)."""
    check = shlex.join([*(["setpriv", *user] if user else []), sys.executable, "-m", "vigil", "check", *args])
    script = f"set -e; ip link set lo up; {setup}; exec {check}"
    if background:  # started first, and stopped once the check is done (it holds the namespace)
        script = (f"set -e; ip link set lo up; {setup}; {background} >/dev/null 2>&1 & pid=$!; "
                  f"while [ ! -e {shlex.quote(ready)} ]; do sleep 0.05; done; set +e; {check}; "
                  "code=$?; kill $pid; exit $code")
    proc = subprocess.run(["unshare", "-n", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=30, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, out, proc.stderr


def as_nobody(*extra: str) -> list[str]:
    return [f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *extra]


async def test_raw_socket_echoes_loopback(check_ctx):
    result = await run_check(spec("icmp://127.0.0.1", kind="icmp", timeout_ms=2000, count=3, interval_ms=20),
                             check_ctx)
    assert result.up, result.as_dict()
    d = result.detail
    assert d["socket"] == "raw" and d["sent"] == 3 and d["received"] == 3 and d["loss_pct"] == 0
    assert 0 < d["rtt_ms"]["min"] <= d["rtt_ms"]["avg"] <= d["rtt_ms"]["max"] < 100
    assert d["jitter_ms"] >= 0
    # the stored latency is the average round trip
    assert abs(result.timings.total_us - d["rtt_ms"]["avg"] * 1000) <= 1


async def test_bare_host_and_ipv6_loopback(check_ctx):
    for target, address in (("127.0.0.1", "127.0.0.1"), ("icmp://[::1]", "::1"), ("localhost", "127.0.0.1")):
        result = await run_check(spec(target, kind="icmp", timeout_ms=1000, count=1), check_ctx)
        assert result.up and result.detail["address"] == address, (target, result.as_dict())


async def test_loopback_is_refused_by_the_address_guard(check_ctx):
    check_ctx.allow_private = False
    result = await run_check(spec("icmp://127.0.0.1", kind="icmp", count=1), check_ctx)
    assert result.error_kind == ErrorKind.blocked_target and "VIGIL_ALLOWED_PRIVATE_TARGETS" in result.error


@needs_netns
def test_unprivileged_icmp_socket_when_the_group_is_in_ping_group_range():
    code, out, err = in_netns(f"sysctl -qw net.ipv4.ping_group_range='{NOBODY} {NOBODY}'",
                              "icmp://127.0.0.1", "--allow-private", user=as_nobody())
    assert code == 0, (out, err)
    assert out["detail"]["socket"] == "datagram" and out["detail"]["received"] == 3


@needs_netns
def test_raw_socket_for_a_non_root_worker_with_cap_net_raw():
    code, out, err = in_netns("true", "icmp://127.0.0.1", "--allow-private",
                              user=as_nobody("--inh-caps=+net_raw", "--ambient-caps=+net_raw"))
    assert code == 0, (out, err)
    assert out["detail"]["socket"] == "raw"


@needs_netns
def test_refused_naming_the_missing_capability():
    code, out, err = in_netns("sysctl -qw net.ipv4.ping_group_range='1 0'", "icmp://127.0.0.1", "--allow-private",
                              user=as_nobody("--inh-caps=-all", "--bounding-set=-net_raw"))
    assert code == 1, (out, err)
    assert out["error_kind"] == "not_permitted" and out["attempts"] == 1  # not retried: it cannot change
    assert "CAP_NET_RAW" in out["error"] and "net.ipv4.ping_group_range" in out["error"]
    assert "'1 0'" in out["error"] and f"gid {NOBODY}" in out["error"]


@needs_netns
def test_host_that_ignores_echoes_is_down_with_all_lost():
    code, out, err = in_netns("sysctl -qw net.ipv4.icmp_echo_ignore_all=1", "icmp://127.0.0.1", "--allow-private",
                              "--count", "2", "--interval-ms", "10", "--timeout-ms", "400")
    assert code == 1, (out, err)
    assert out["error_kind"] == "packet_loss" and out["detail"]["loss_pct"] == 100
    assert "2 of 2 echoes to 127.0.0.1 lost" in out["error"] and "no reply within 195 ms" in out["error"]


@needs_netns
@pytest.mark.parametrize(("max_loss", "up"), [(50, True), (49, False)])
def test_partial_loss_is_judged_by_max_loss_pct(tmp_path, max_loss, up):
    ready = tmp_path / "ready"
    responder = shlex.join([sys.executable, "-m", "tests.icmp_responder", "0,2", str(ready)])
    code, out, err = in_netns(
        "sysctl -qw net.ipv4.icmp_echo_ignore_all=1", "icmp://127.0.0.1", "--allow-private", "--count", "4",
        "--interval-ms", "10", "--timeout-ms", "1000", "--max-loss-pct", str(max_loss),
        background=responder, ready=str(ready))
    assert (code == 0) is up, (out, err)
    assert out["detail"]["received"] == 2 and out["detail"]["loss_pct"] == 50
    if not up:
        assert out["error_kind"] == "packet_loss" and "at most 49 % allowed" in out["error"]


@pytest.mark.parametrize(("target", "host"), [
    ("icmp://example.com", "example.com"), ("icmp://example.com/", "example.com"), ("example.com", "example.com"),
    ("192.0.2.7", "192.0.2.7"), ("icmp://[2001:db8::1]", "2001:db8::1"), ("2001:db8::1", "2001:db8::1"),
    ("[2001:db8::1]", "2001:db8::1"),
])
def test_target_forms(target, host):
    assert icmp.parse_target(target) == host


@pytest.mark.parametrize("target", ["icmp://example.com:80", "icmp://example.com/path", "tcp://example.com",
                                    "icmp://", "exa mple.com", "example.com:80", "icmp://u@example.com", "1.2.3"])
def test_bad_targets_say_the_form(target):
    with pytest.raises(ValueError, match="icmp://host"):
        icmp.parse_target(target)


@pytest.mark.parametrize(("count", "interval_ms", "need"), [(1, 10, 100), (3, 200, 700), (20, 5000, 97_000)])
def test_timeout_needed_by_the_echoes(count, interval_ms, need):
    opts = icmp.IcmpOptions(count=count, interval_ms=interval_ms)
    assert icmp.needed_timeout_ms(opts) == need
    icmp.within_timeout(opts, need)
    with pytest.raises(ValueError, match=f"at least {need} ms"):
        icmp.within_timeout(opts, need - 1)


M = "/api/v1/monitors"


async def test_api_creates_an_icmp_monitor_with_its_options(client, auth):
    r = await client.post(M, headers=auth, json={
        "name": "gw", "kind": "icmp", "target": "icmp://example.com",
        "expectations": {"count": 5, "interval_ms": 100, "payload_bytes": 32, "max_loss_pct": 20}})
    assert r.status_code == 201, r.text
    assert r.json()["timeout_ms"] == icmp.KIND.timeouts.default_ms


@pytest.mark.parametrize(("monitor", "named"), [
    ({"target": "icmp://example.com:7"}, "icmp://host"),
    ({"target": "icmp://example.com", "expectations": {"count": 0}}, "expectations.icmp.count"),
    ({"target": "icmp://example.com", "expectations": {"payload_bytes": 1453}}, "expectations.icmp.payload_bytes"),
    ({"target": "icmp://example.com", "expectations": {"max_loss_pct": 100}}, "expectations.icmp.max_loss_pct"),
    ({"target": "icmp://example.com", "expectations": {"status_codes": [200]}}, "expectations.icmp.status_codes"),
    ({"target": "icmp://example.com", "timeout_ms": 1000, "expectations": {"count": 10, "interval_ms": 500}},
     "at least 5500 ms"),
])
async def test_api_refuses_bad_icmp_monitors_with_400(client, auth, monitor, named):
    r = await client.post(M, headers=auth, json={"name": "gw", "kind": "icmp", **monitor})
    assert r.status_code == 400, r.text
    assert named in r.text


@pytest.mark.parametrize(("allowed", "status"), [("", 400), ("127.0.0.1:8089", 400), ("127.0.0.0/8", 201)])
async def test_api_guards_icmp_targets_without_a_port(settings, auth, allowed, status):
    """An ICMP target has no port: only an allowlist entry without one lets it through."""
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    strict = settings.model_copy(update={"allow_private_targets": False, "allowed_private_targets": allowed})
    async with AsyncTestClient(app=create_app(strict)) as client:
        for target in ("icmp://127.0.0.1", "localhost"):
            r = await client.post(M, headers=auth, json={"name": "lo", "kind": "icmp", "target": target})
            assert r.status_code == status, r.text
            if status == 400:
                assert "loopback" in r.text and "invalid value for target" in r.text


def _vigil_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vigil", "check", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=30)


@pytest.mark.parametrize(("args", "message"), [
    (["icmp://127.0.0.1", "--count", "10", "--interval-ms", "500", "--timeout-ms", "1000"],
     "--timeout-ms must be at least 5500 ms for --count 10 echoes --interval-ms 500 ms apart"),
    (["icmp://127.0.0.1", "--count", "0"], "--count"),
    (["icmp://127.0.0.1:9"], "icmp://host"),
    (["icmp://127.0.0.1", "--keyword", "x"], "--keyword does not apply to icmp checks"),
])
def test_cli_bad_argument_exits_2_naming_it(args, message):
    proc = _vigil_check(*args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_cli_pings_loopback():
    proc = _vigil_check("icmp://127.0.0.1", "--allow-private", "--count", "2", "--interval-ms", "10")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["kind"] == "icmp" and out["detail"]["received"] == 2


async def test_worker_stores_the_average_round_trip(settings, db, account):
    region_id = db.execute("INSERT INTO regions (name) VALUES ('local') RETURNING id").fetchone()[0]
    expectations = {"count": 3, "interval_ms": 10}
    monitor_id = db.execute(
        "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, expectations) "
        "VALUES ((SELECT id FROM accounts LIMIT 1), 'lo', 'icmp', 'icmp://127.0.0.1', 60, 1000, %s) RETURNING id",
        (json.dumps(expectations),)).fetchone()[0]
    ctx = {"settings": settings.model_copy(update={"allow_private_targets": True})}
    await startup(ctx)
    try:
        assert await run_batch(ctx, 1_800_000_000, region_id,
                               [(monitor_id, "icmp", "icmp://127.0.0.1", 1000, expectations, 1, 60)]) == 1
    finally:
        await shutdown(ctx)
    up, error_kind, latency_us = db.execute(
        "SELECT up, error_kind, latency_us FROM check_results WHERE monitor_id = %s", (monitor_id,)).fetchone()
    assert up and error_kind == 0 and 0 < latency_us < 100_000
