"""What the benchmarks share: throwaway servers (as the tests start them) and output."""

from __future__ import annotations

import json
import math
import os
import statistics
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vigil.devcluster import Postgres, Redis, free_port


@contextmanager
def throwaway_postgres(durable: bool = True) -> Iterator[Postgres]:
    """A private PostgreSQL+TimescaleDB for one benchmark run. durable=True keeps fsync on,
    as production would; the figures then include real commit costs."""
    root = Path(tempfile.mkdtemp(prefix="vigil-bench-pg-"))
    os.chmod(root, 0o755)
    server = Postgres(root / "data", free_port(), durable=durable)
    server.start()
    try:
        yield server
    finally:
        server.destroy()
        root.rmdir()


@contextmanager
def throwaway_redis() -> Iterator[Redis]:
    server = Redis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of them at or below it (nan if none)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


def emit(figures: dict) -> None:
    """The last line of every benchmark: its figures as one line of JSON."""
    print(json.dumps(figures, sort_keys=True), flush=True)


# How often a benchmark's observed run reads every metrics endpoint: three times as often as
# the 15 s that `vigil up` and compose configure, so the figure errs on the high side.
SCRAPE_SECONDS = 5.0


def observability_env(on: bool, services: tuple[str, ...] = ()) -> tuple[dict[str, str], list[str]]:
    """The environment that turns observability on (``on``) or off for a benchmark's Vigil
    processes, and the metrics URLs to scrape: metrics recorded and served on a free port
    per service (the API serves its own /metrics)."""
    if not on:
        return {"VIGIL_METRICS": "false"}, []
    env, urls = {"VIGIL_METRICS": "true"}, []
    for service in services:
        port = free_port()
        env[f"VIGIL_{service.upper()}_METRICS_PORT"] = str(port)
        urls.append(f"http://127.0.0.1:{port}/metrics")
    return env, urls


@contextmanager
def scraping(urls: list[str], every_s: float = SCRAPE_SECONDS) -> Iterator[list[int]]:
    """Read every URL every ``every_s`` seconds in a thread, as Prometheus would; yields a
    one-item list counting the scrapes that answered."""
    done, stop = [0], threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            for url in urls:
                try:
                    with urllib.request.urlopen(url, timeout=5) as r:
                        r.read()
                    done[0] += 1
                except OSError:
                    pass
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join()
