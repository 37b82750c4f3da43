"""The delivery half of the evaluator benchmark's alert latency: a signed-webhook receiver
on 127.0.0.1 port 0 (in the benchmark's process, recording when each delivery arrived and
verifying its signature) and `vigil notifier` as its own process, as deployed; and the
evaluator's immediate down pass as its own process (`python -m benchmarks.alert_delivery`
runs the pass `vigil evaluator` runs beside its cron, without the cron, whose real-minute
ticks would land in the middle of the benchmark's explicit ones)."""

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


IMMEDIATE_PASS_APP = "vigil-immediate-pass"  # application_name of its connections


def start_immediate_pass(dsn: str) -> subprocess.Popen:
    env = {**os.environ, "VIGIL_DATABASE_URL": dsn, "VIGIL_LOG_LEVEL": "WARNING", "PGAPPNAME": IMMEDIATE_PASS_APP}
    return subprocess.Popen([sys.executable, "-m", "benchmarks.alert_delivery"], env=env)


async def wait_immediate_passes_ready(dsn: str, channel: str, passes: int, limit_s: float = 300.0) -> None:
    """Until `passes` immediate passes LISTEN on `channel` and have finished the pass over
    every down rule that follows connecting (all their connections idle for a moment)."""
    deadline = time.monotonic() + limit_s
    quiet = 0
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as db:
        while time.monotonic() < deadline:
            cur = await db.execute(
                "SELECT count(*) FILTER (WHERE query = %s), count(*) FILTER (WHERE state <> 'idle')"
                " FROM pg_stat_activity WHERE application_name = %s", (f'LISTEN "{channel}"', IMMEDIATE_PASS_APP))
            listening, busy = await cur.fetchone()
            quiet = quiet + 1 if listening >= passes and not busy else 0
            if quiet >= 10:
                return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{passes} immediate pass(es) not listening and idle after {limit_s} s")


async def _immediate_pass() -> None:
    from evaluator.immediate import ImmediateDownPass
    from vigil.db import open_pool

    dsn = os.environ["VIGIL_DATABASE_URL"]
    pool = await open_pool(dsn, max_size=2)
    try:
        await ImmediateDownPass(pool, dsn).run()
    finally:
        await pool.close()


def stop_service(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    try:
        asyncio.run(_immediate_pass())
    except KeyboardInterrupt:
        pass
