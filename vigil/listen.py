"""PostgreSQL LISTEN/NOTIFY between services: a sender helper and a reconnecting listener.

A notification sent inside a transaction is delivered when (and only if) it commits, so a
listener never hears of rows it cannot read yet. Notifications sent while no listener is
connected are gone: a listener treats every (re)connect as "something may have been
missed" (``on_connect``), and the services keep a periodic pass as the safety net."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

import psycopg
from psycopg import sql as pgsql

log = logging.getLogger(__name__)

# PostgreSQL refuses a payload of 8000 bytes or more; ids are sent in chunks below that.
MAX_PAYLOAD_BYTES = 7000
# How long a quiet connection may go unchecked: a peer that vanished without closing the
# socket is noticed by the next round trip, not by waiting for a notification.
HEALTH_CHECK_SECONDS = 30.0
RECONNECT_MAX_SECONDS = 10.0


def id_payloads(ids: Iterable[int]) -> list[str]:
    """Comma-separated ids, split into payloads PostgreSQL accepts."""
    payloads: list[str] = []
    current: list[str] = []
    size = 0
    for i in sorted(set(ids)):
        text = str(i)
        if current and size + len(text) + 1 > MAX_PAYLOAD_BYTES:
            payloads.append(",".join(current))
            current, size = [], 0
        current.append(text)
        size += len(text) + 1
    if current:
        payloads.append(",".join(current))
    return payloads


def parse_ids(payload: str) -> set[int]:
    """The ids of a payload from id_payloads; ValueError if it is not one."""
    return {int(part) for part in payload.split(",") if part}


async def send(conn: psycopg.AsyncConnection, channel: str, payloads: Iterable[str] = ("",)) -> None:
    """NOTIFY `channel` once per payload, in the connection's current transaction."""
    payloads = list(payloads)
    if payloads:
        await conn.execute("SELECT pg_notify(%s, p) FROM unnest(%s::text[]) p", (channel, payloads))


async def listen(dsn: str, channels: Iterable[str], on_notify: Callable[[str, str], None],
                 on_connect: Callable[[], None] | None = None) -> None:
    """Hold a connection LISTENing on `channels` until cancelled, calling on_notify(channel,
    payload) for every notification and on_connect() after every (re)connect. A lost
    connection is reopened with backoff. The callbacks run on the listening task: they
    should only record what arrived and wake their service, and must not raise."""
    channels = list(channels)
    backoff = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                for channel in channels:
                    await conn.execute(pgsql.SQL("LISTEN {}").format(pgsql.Identifier(channel)))
                backoff = 0.5
                if on_connect is not None:
                    on_connect()
                while True:
                    async for note in conn.notifies(timeout=HEALTH_CHECK_SECONDS):
                        on_notify(note.channel, note.payload)
                    await conn.execute("SELECT 1")
        except psycopg.OperationalError as exc:
            log.warning("listening on %s: connection lost (%s); reconnecting in %.1f s",
                        ", ".join(channels), exc, backoff)
        except Exception:  # whatever it was, a listener that stops listening helps nobody
            log.exception("listening on %s failed; reconnecting in %.1f s", ", ".join(channels), backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, RECONNECT_MAX_SECONDS)
