"""The fixed-rate driver of benchmarks.api (benchmarks/fixed_rate.py) against a real HTTP
server on loopback: it sends every scheduled request, and a server that stalls is charged for
the requests that were due during the stall (latency counted from when a request was due,
not from when it could leave)."""

import subprocess
import sys
import textwrap

import pytest
import uvloop

from benchmarks.fixed_rate import drive
from vigil.devcluster import free_port, wait_for_port

# /ping answers at once; /ping blocks the server's whole event loop for STALL_S on its
# STALL_AT-th request, as a long synchronous computation in a handler would.
SERVER = textwrap.dedent("""
    import sys, time
    from aiohttp import web
    stall_s, stall_at, seen = float(sys.argv[2]), int(sys.argv[3]), [0]
    async def ping(request):
        seen[0] += 1
        if seen[0] == stall_at:
            time.sleep(stall_s)
        return web.json_response({"ok": True})
    app = web.Application()
    app.router.add_get("/ping", ping)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
""")


@pytest.fixture
def server():
    started = []

    def start(stall_s: float = 0.0, stall_at: int = 0) -> str:
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(stall_s), str(stall_at)])
        started.append(proc)
        wait_for_port(port, 15)
        return f"http://127.0.0.1:{port}"
    yield start
    for proc in started:
        proc.terminate()
        proc.wait(10)


def test_every_scheduled_request_is_sent_and_answered(server):
    host = server()
    result = uvloop.run(drive(host, "baseline", rate=200, seconds=1.0))
    assert result["requests"] == 200 and result["failures"] == 0
    assert set(result["endpoints"]) == {"baseline ping"}
    assert 0 < result["p50_ms"] <= result["p99_ms"] < 200
    assert 150 <= result["rps"] <= 250  # Poisson gaps: the count is fixed, the span varies


def test_a_stall_is_charged_to_the_requests_due_during_it(server):
    # 200 req/s and a 300 ms stall at request 50: about 60 requests are due while the server
    # was blocked, so at least 1 % of the 300 waited most of the stall. A closed-loop client
    # (waiting for each answer before sending the next) would have sent them late and timed
    # them from then.
    host = server(stall_s=0.3, stall_at=50)
    result = uvloop.run(drive(host, "baseline", rate=200, seconds=1.5))
    assert result["requests"] == 300 and result["failures"] == 0
    assert result["p99_ms"] >= 200
    assert result["p50_ms"] < 100  # the requests after the stall are quick again
    assert result["send_lag_p99_ms"] < 50  # the driver itself kept its schedule
