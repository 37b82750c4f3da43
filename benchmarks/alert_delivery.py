"""The delivery half of the evaluator benchmark's alert latency: a signed-webhook receiver
on 127.0.0.1 port 0 (in the benchmark's process, recording when each delivery arrived and
verifying its signature) and `vigil notifier` as its own process, as deployed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import psycopg
from aiohttp import web
from psycopg.types.json import Jsonb

from notify.channels import parse_config, split_config
from notify.crypto import encrypt_secrets
from notify.transports.webhook import SIGNATURE_HEADER, verify

SECRET = "bench-signing-secret-0123456789"


@dataclass
class Receiver:
    """Records (wall time.time() of arrival) per delivery id and event; counts bad signatures."""
    received: dict[tuple[str, int], float] = field(default_factory=dict)
    bad_signatures: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        arrived = time.time()
        body = await request.read()
        if not verify(SECRET, request.headers.get(SIGNATURE_HEADER, ""), body):
            self.bad_signatures += 1
            return web.Response(status=401, text="bad signature")
        key = (request.headers.get("Vigil-Event", ""), int(request.headers.get("Vigil-Delivery", "0")))
        self.received.setdefault(key, arrived)
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # port 0: the one the OS picked
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def count(self, event: str) -> int:
        return sum(1 for e, _ in self.received if e == event)

    async def wait_for(self, event: str, n: int, limit_s: float) -> bool:
        deadline = time.monotonic() + limit_s
        while self.count(event) < n and time.monotonic() < deadline:  # noqa: ASYNC110 (polls a counter)
            await asyncio.sleep(0.01)
        return self.count(event) >= n


def point_channel_at(dsn: str, channel_id: int, url: str, secret_key: str) -> None:
    """Make the benchmark's channel a signed webhook to the receiver (secret encrypted, as the API stores it)."""
    public, secrets = split_config("webhook", parse_config("webhook", {"url": url, "secret": SECRET},
                                                           allow_private=True))
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("UPDATE channels SET config = %s, secret_ciphertext = %s WHERE id = %s",
                   (Jsonb(public), encrypt_secrets(secret_key, secrets), channel_id))


def start_notifier(dsn: str, secret_key: str) -> subprocess.Popen:
    env = {**os.environ, "VIGIL_DATABASE_URL": dsn, "VIGIL_SECRET_KEY": secret_key,
           "VIGIL_ALLOW_PRIVATE_TARGETS": "1", "VIGIL_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "vigil", "notifier"], env=env)


def stop_notifier(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
