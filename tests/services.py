"""Start Vigil services as real child processes for end-to-end and fault tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from vigil.settings import Settings


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {**os.environ, "VIGIL_DATABASE_URL": settings.database_url, "VIGIL_REDIS_URL": settings.redis_url,
           "VIGIL_ALLOW_PRIVATE_TARGETS": "1", "VIGIL_SCHEDULER_TICK_SECONDS": "0.1",
           "VIGIL_SCHEDULER_REFRESH_SECONDS": "0.5", "VIGIL_WRITER_FLUSH_SECONDS": "0.05"}
    env.update(extra)
    return env


@contextmanager
def running(settings: Settings, *commands: list[str], **env: str) -> Iterator[list[subprocess.Popen]]:
    procs = [subprocess.Popen([sys.executable, "-m", "vigil", *cmd], env=service_env(settings, **env),
                              start_new_session=True) for cmd in commands]
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
