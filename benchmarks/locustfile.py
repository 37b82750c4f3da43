"""Load on the stats endpoints (StatsUser) or on the trivial baseline endpoint
(BaselineUser), driven by benchmarks.api; also usable by hand against a running API:

    VIGIL_BENCH_KEY=vgl_... VIGIL_BENCH_MONITORS=1,2,3 VIGIL_BENCH_TAG=web \
    locust -f benchmarks/locustfile.py --headless -u 20 -r 20 -t 30s --host http://127.0.0.1:8080 StatsUser

VIGIL_BENCH_USER_RATE sets requests per second per user (constant throughput); 0 or unset
sends as fast as each user can (to measure capacity)."""

from __future__ import annotations

import os
import random

from locust import FastHttpUser, constant, constant_throughput, task

from benchmarks.stats_requests import GROUP_REQUEST, MONITOR_REQUESTS

KEY = os.environ.get("VIGIL_BENCH_KEY", "")
MONITORS = [int(x) for x in os.environ.get("VIGIL_BENCH_MONITORS", "1").split(",")]
TAG = os.environ.get("VIGIL_BENCH_TAG", "web")
RATE = float(os.environ.get("VIGIL_BENCH_USER_RATE", "0") or 0)
WAIT = constant_throughput(RATE) if RATE > 0 else constant(0)


class StatsUser(FastHttpUser):
    """A dashboard's mix (benchmarks/stats_requests.py): mostly window stats and charts,
    some status and breakdowns, over randomly chosen monitors."""

    wait_time = WAIT

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {KEY}"}

    @task(sum(r[3] for r in MONITOR_REQUESTS))
    def monitor(self) -> None:
        name, path, query, _ = random.choices(MONITOR_REQUESTS, weights=[r[3] for r in MONITOR_REQUESTS])[0]
        self.client.get(path.format(id=random.choice(MONITORS)), params=query, headers=self.headers, name=name)

    @task(GROUP_REQUEST[3])
    def group(self) -> None:
        name, path, query, _ = GROUP_REQUEST
        self.client.get(path, params={**query, "tag": TAG}, headers=self.headers, name=name)


class BaselineUser(FastHttpUser):
    wait_time = WAIT

    @task
    def ping(self) -> None:
        self.client.get("/ping", name="baseline ping")
