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

KEY = os.environ.get("VIGIL_BENCH_KEY", "")
MONITORS = [int(x) for x in os.environ.get("VIGIL_BENCH_MONITORS", "1").split(",")]
TAG = os.environ.get("VIGIL_BENCH_TAG", "web")
RATE = float(os.environ.get("VIGIL_BENCH_USER_RATE", "0") or 0)
WAIT = constant_throughput(RATE) if RATE > 0 else constant(0)


class StatsUser(FastHttpUser):
    """A dashboard's mix: mostly window stats and charts, some status and breakdowns."""

    wait_time = WAIT

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {KEY}"}

    def _get(self, path: str, name: str, **params: str) -> None:
        monitor = random.choice(MONITORS)
        self.client.get(path.format(id=monitor), params=params, headers=self.headers, name=name)

    @task(4)
    def stats_24h(self) -> None:
        self._get("/api/v1/monitors/{id}/stats", "stats 24h", window="24h")

    @task(1)
    def stats_7d(self) -> None:
        self._get("/api/v1/monitors/{id}/stats", "stats 7d", window="7d")

    @task(2)
    def series_24h(self) -> None:
        self._get("/api/v1/monitors/{id}/series", "series 24h (1h)", window="24h")

    @task(2)
    def status(self) -> None:
        self._get("/api/v1/monitors/{id}/status", "status", limit="60")

    @task(1)
    def regions(self) -> None:
        self._get("/api/v1/monitors/{id}/regions", "regions 24h", window="24h")

    @task(1)
    def downtimes(self) -> None:
        self._get("/api/v1/monitors/{id}/downtimes", "downtimes 24h", window="24h")

    @task(1)
    def group(self) -> None:
        self.client.get("/api/v1/stats", params={"tag": TAG, "window": "24h"}, headers=self.headers,
                        name="group stats 24h")


class BaselineUser(FastHttpUser):
    wait_time = WAIT

    @task
    def ping(self) -> None:
        self.client.get("/ping", name="baseline ping")
