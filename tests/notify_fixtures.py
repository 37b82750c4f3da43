"""Fixtures for notifications: settings with a secret key and fast retries, an API client on
them, a scriptable HTTP receiver and a real SMTP server (aiosmtpd), all on loopback port 0."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP
from litestar.testing import AsyncTestClient

from notify.crypto import generate_key
from notify.transports.base import TransportContext
from notify.transports.http import make_session
from vigil.settings import Settings

SECRET = "whsec-0123456789abcdef"


@pytest.fixture
def nsettings(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "secret_key": generate_key(), "notify_backoff_base_seconds": 0.05,
        "notify_backoff_max_seconds": 0.2, "notify_max_attempts": 4, "notify_timeout_seconds": 3.0,
        "smtp_starttls": False})


@pytest.fixture
async def nclient(nsettings: Settings) -> AsyncIterator[AsyncTestClient]:
    from api.app import create_app

    async with AsyncTestClient(app=create_app(nsettings)) as c:
        yield c


@pytest.fixture
async def npool(nsettings: Settings):
    from vigil.db import open_pool

    pool = await open_pool(nsettings.database_url, max_size=6)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def transport_ctx(nsettings: Settings, npool) -> AsyncIterator[TransportContext]:
    http = make_session(nsettings.allow_private_targets)
    try:
        yield TransportContext(settings=nsettings, http=http, pool=npool)
    finally:
        await http.close()


@dataclass
class Receiver:
    """An HTTP receiver answering with the scripted statuses in turn, then 200 (or 204)."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    ok_status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    delay: float = 0.0

    def bodies(self) -> list[Any]:
        return [json.loads(b) for _, b in self.requests]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        rec.requests.append((dict(request.headers), body))
        if rec.delay:
            await asyncio.sleep(rec.delay)
        status = rec.script.pop(0) if rec.script else rec.ok_status
        return web.Response(status=status, text="" if status == 204 else f"status {status}")

    app = web.Application()
    app.router.add_post("/{tail:.*}", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"
    try:
        yield rec
    finally:
        await runner.cleanup()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
async def smtp_server(nsettings: Settings) -> AsyncIterator[tuple[_Inbox, Settings]]:
    """A real SMTP server on loopback; yields its inbox and settings pointing at it."""
    inbox = _Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(inbox), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield inbox, nsettings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port,
                                                  "smtp_from": "vigil@example.test"})
    finally:
        server.close()
        await server.wait_closed()


INCIDENT_PAYLOAD = {"incident_id": 7, "rule": {"id": 3, "name": "shop down", "kind": "down"},
                    "monitor": {"id": 1, "name": "shop", "target": "https://shop.example.com/health"},
                    "severity": "critical", "state": "firing", "started_at": "2026-11-24T10:00:00+00:00",
                    "resolved_at": None, "summary": "shop is down in 2 of 3 regions"}


def make_channel(db, settings: Settings, account_id: int, kind: str, config: dict[str, Any]) -> int:
    """A channel stored the way the API stores it (secrets split off and encrypted)."""
    from psycopg.types.json import Jsonb

    from notify.channels import parse_config, split_config
    from notify.crypto import encrypt_secrets

    public, secrets = split_config(kind, parse_config(kind, config, allow_private=True))
    cipher = encrypt_secrets(settings.secret_key, secrets) if secrets else None
    return db.execute("INSERT INTO channels (account_id, kind, name, config, secret_ciphertext)"
                      " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                      (account_id, kind, f"{kind}-channel", Jsonb(public), cipher)).fetchone()[0]


def add_notification(db, account_id: int, channel_id: int, key: str, payload: dict | None = None,
                     event: str = "firing") -> int:
    """An outbox row as the evaluator writes it."""
    from psycopg.types.json import Jsonb

    return db.execute("INSERT INTO notifications (account_id, channel_id, incident_id, event, dedupe_key, payload)"
                      " VALUES (%s, %s, 7, %s, %s, %s) RETURNING id",
                      (account_id, channel_id, event, key, Jsonb(payload or INCIDENT_PAYLOAD))).fetchone()[0]
