"""Helpers for alerting tests: monitors, channels and rules written straight to the
database, scripted check histories with chosen slot times, and one evaluator tick."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from evaluator.tick import KindOutcome, evaluate_minute
from vigil.constants import ErrorKind
from vigil.db import open_pool

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
MINUTE = timedelta(minutes=1)

BURN_PAIRS = [{"long_s": 3600, "short_s": 300, "factor": 14.4},
              {"long_s": 21600, "short_s": 1800, "factor": 6.0},
              {"long_s": 259200, "short_s": 21600, "factor": 1.0}]


def make_monitor(db: psycopg.Connection, account_id: int, name: str = "shop", *,
                 regions: tuple[str, ...] = ("eu", "us", "ap"), quorum: int = 1, interval_s: int = 60,
                 kind: str = "http", slo_target: float = 99.9, tags: tuple[str, ...] = (),
                 created_at: datetime = T0 - timedelta(days=30)) -> int:
    db.execute("INSERT INTO regions (name) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (list(regions),))
    return db.execute(
        "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions,"
        " region_quorum, slo_target, tags, created_at) VALUES (%s, %s, %s, %s, %s, 5000, %s, %s, %s, %s, %s)"
        " RETURNING id",
        (account_id, name, kind, f"https://{name}.example.com/", interval_s, list(regions), quorum,
         slo_target, list(tags), created_at)).fetchone()[0]


def make_channel(db: psycopg.Connection, account_id: int, name: str = "ops", kind: str = "webhook") -> int:
    return db.execute("INSERT INTO channels (account_id, kind, name, config) VALUES (%s, %s, %s, %s) RETURNING id",
                      (account_id, kind, name, Jsonb({"url": "https://hooks.example.com/x"}))).fetchone()[0]


def make_rule(db: psycopg.Connection, account_id: int, kind: str, params: dict, *, monitor_id: int | None = None,
              tag: str | None = None, channel_ids: Iterable[int] = (), recovery_slots: int = 1,
              renotify_s: int = 0, pending_s: int = 0, name: str = "rule") -> int:
    return db.execute(
        "INSERT INTO alert_rules (account_id, name, kind, monitor_id, tag, params, channel_ids,"
        " recovery_slots, renotify_s, pending_s) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (account_id, name, kind, monitor_id, tag, Jsonb(params), list(channel_ids), recovery_slots,
         renotify_s, pending_s)).fetchone()[0]


def write_results(db: psycopg.Connection, monitor_id: int, region: str, times: Iterable[datetime], *,
                  up: bool, latency_ms: float = 50.0, error_kind: ErrorKind | None = None) -> None:
    """One result per slot time for one region (replacing what is there)."""
    kind = ErrorKind.none if up else (error_kind or ErrorKind.http_status)
    rid = db.execute("SELECT id FROM regions WHERE name = %s", (region,)).fetchone()[0]
    rows = [(t, monitor_id, int(latency_ms * 1000), rid, int(kind), up) for t in times]
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO check_results (time, monitor_id, latency_us, region_id, error_kind, up)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (monitor_id, region_id, time) DO UPDATE"
            " SET up = excluded.up, error_kind = excluded.error_kind, latency_us = excluded.latency_us",
            rows)


def minutes(start: datetime, count: int, step: timedelta = MINUTE) -> list[datetime]:
    return [start + i * step for i in range(count)]


async def tick(pool: AsyncConnectionPool, at: datetime, kinds: tuple[str, ...] | None = None) -> list[KindOutcome]:
    outcomes = await evaluate_minute(pool, at, kinds) if kinds else await evaluate_minute(pool, at)
    return outcomes


def incidents(db: psycopg.Connection) -> list[dict]:
    cur = db.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute("SELECT * FROM incidents ORDER BY id").fetchall()


def notifications(db: psycopg.Connection) -> list[dict]:
    cur = db.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute("SELECT * FROM notifications ORDER BY id").fetchall()


@pytest.fixture
async def pool(settings) -> AsyncIterator[AsyncConnectionPool]:
    p = await open_pool(settings.database_url, min_size=1, max_size=4)
    try:
        yield p
    finally:
        await p.close()
