"""What the benchmarks share: throwaway servers (as the tests start them) and output."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
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


def emit(figures: dict) -> None:
    """The last line of every benchmark: its figures as one line of JSON."""
    print(json.dumps(figures, sort_keys=True), flush=True)
