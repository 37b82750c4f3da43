"""Open-loop load at a fixed rate for benchmarks.api: requests leave on a schedule drawn in
advance, whatever the answers before them did, and each one's latency is counted from the
moment it was due to leave, so a server that stalls is charged for the requests that waited
behind the stall (no coordinated omission). The schedule is a Poisson process at the rate,
as independent clients arrive: random gaps, so requests sometimes arrive together. The
arrival pattern moves the server's CPU per request: for the trivial endpoint here, evenly
spaced requests (each alone) cost 250-290 us, Poisson arrivals 180-265 us, and locust's
users, which send in bursts, 105-131 us.

    python -m benchmarks.fixed_rate --host http://127.0.0.1:8080 --rate 500 --seconds 20 stats
    python -m benchmarks.fixed_rate --host http://127.0.0.1:8080 --rate 500 --seconds 20 baseline

``stats`` sends the mix of benchmarks/stats_requests.py over random monitors (the key,
monitors and tag from VIGIL_BENCH_KEY, VIGIL_BENCH_MONITORS and VIGIL_BENCH_TAG, as the
locustfile reads them); ``baseline`` asks benchmarks/baseline_app.py's /ping. Prints one line
of JSON: rps, p50_ms, p99_ms, requests, failures, endpoints (p99 ms per request name) and
send_lag_p99_ms (how late this process sent its requests: its own share of the latency).

Why not locust for this phase: on this 2-core machine locust's own scheduling put its p99 for
the trivial baseline endpoint at 16-39 ms at 500 req/s, where a plain asyncio client measured
3-6 ms and this driver 2-7 ms, so the fixed-rate phase measured the load generator more than
the server. Locust still drives the capacity phases (how many requests a second the server
completes)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
import urllib.parse

import aiohttp
import uvloop

from benchmarks.harness import percentile
from benchmarks.stats_requests import GROUP_REQUEST, MONITOR_REQUESTS

SEND_TIMEOUT_S = 30


def _mix(host: str, kind: str) -> tuple[list[tuple[str, str]], list[int], dict[str, str]]:
    """([(request name, url)], their weights, headers) of a load kind."""
    if kind == "baseline":
        return [("baseline ping", f"{host}/ping")], [1], {}
    monitors = [int(x) for x in os.environ.get("VIGIL_BENCH_MONITORS", "1").split(",")]
    tag = os.environ.get("VIGIL_BENCH_TAG", "web")
    requests, weights = [], []
    for name, path, query, weight in MONITOR_REQUESTS:
        for monitor_id in monitors:  # each monitor equally likely, as the locustfile picks them
            requests.append((name, f"{host}{path.format(id=monitor_id)}?{urllib.parse.urlencode(query)}"))
            weights.append(weight)
    name, path, query, weight = GROUP_REQUEST
    requests.append((name, f"{host}{path}?{urllib.parse.urlencode({**query, 'tag': tag})}"))
    weights.append(weight * len(monitors))
    return requests, weights, {"Authorization": f"Bearer {os.environ.get('VIGIL_BENCH_KEY', '')}"}


async def drive(host: str, kind: str, rate: float, seconds: float, seed: int = 7) -> dict:
    requests, weights, headers = _mix(host, kind)
    rng = random.Random(seed)
    total = int(rate * seconds)
    chosen = rng.choices(requests, weights=weights, k=total)
    gaps = [rng.expovariate(rate) for _ in range(total)]
    latencies: dict[str, list[float]] = {}
    lags: list[float] = []
    failures = 0
    timeout = aiohttp.ClientTimeout(total=SEND_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256), timeout=timeout,
                                     headers=headers) as session:

        async def one(name: str, url: str, due: float) -> None:
            nonlocal failures
            lags.append(time.perf_counter() - due)
            try:
                async with session.get(url) as response:
                    await response.read()
                    ok = response.status == 200
            except (TimeoutError, aiohttp.ClientError):
                ok = False
            if ok:
                latencies.setdefault(name, []).append(time.perf_counter() - due)
            else:
                failures += 1

        tasks = []
        start = due = time.perf_counter() + 0.05
        for gap, (name, url) in zip(gaps, chosen, strict=True):
            due += gap
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(name, url, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    every = [v for values in latencies.values() for v in values]
    return {"rps": round(len(every) / elapsed, 1), "p50_ms": round(percentile(every, 0.5) * 1e3, 2),
            "p99_ms": round(percentile(every, 0.99) * 1e3, 2), "requests": len(every) + failures,
            "failures": failures,
            "endpoints": {name: round(percentile(values, 0.99) * 1e3, 2) for name, values in sorted(latencies.items())},
            "send_lag_p99_ms": round(percentile(lags, 0.99) * 1e3, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--rate", type=float, default=500.0, help="requests a second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("kind", choices=("stats", "baseline"))
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0:
        parser.error(f"--rate and --seconds must be positive (got {args.rate} and {args.seconds})")
    print(json.dumps(uvloop.run(drive(args.host, args.kind, args.rate, args.seconds))), flush=True)


if __name__ == "__main__":
    main()
