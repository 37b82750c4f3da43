"""Fixtures: a throwaway PostgreSQL+TimescaleDB and Redis on free ports for the whole
session, migrated once; each test gets clean tables."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from vigil.accounts import create_account_with_key
from vigil.devcluster import Postgres, Redis, free_port
from vigil.migrate import migrate
from vigil.settings import Settings

# Tests talk to servers on loopback: allow it, as the demo does.
os.environ.setdefault("VIGIL_ALLOW_PRIVATE_TARGETS", "1")

DATA_TABLES = ("check_results",)

# Fixtures of the alerting tests (pool, ...).
pytest_plugins = ["tests.alerts_fixtures"]


@pytest.fixture(scope="session")
def pg() -> Iterator[Postgres]:
    root = Path(tempfile.mkdtemp(prefix="vigil-test-pg-"))
    os.chmod(root, 0o755)
    server = Postgres(root / "data", free_port(), durable=False)
    server.start()
    try:
        yield server
    finally:
        server.destroy()
        root.rmdir()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    server = Redis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def base_settings(pg: Postgres, redis_server: Redis) -> Settings:
    s = Settings(database_url=pg.dsn, redis_url=redis_server.url, allow_private_targets=True,
                 writer_flush_seconds=0.05, scheduler_tick_seconds=0.1, scheduler_refresh_seconds=0.5)
    migrate(s)
    return s


def _truncate_all(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_migrations'")]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@pytest.fixture
def settings(base_settings: Settings, redis_server: Redis) -> Settings:
    """Clean database and Redis for each test."""
    _truncate_all(base_settings.database_url)
    import redis as sync_redis

    sync_redis.Redis.from_url(redis_server.url).flushall()
    return base_settings


@pytest.fixture
def db(settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def account(db: psycopg.Connection) -> tuple[int, str]:
    """(account id, admin API key)"""
    return create_account_with_key(db, "acme", "admin")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    from api.app import create_app

    async with AsyncTestClient(app=create_app(settings)) as c:
        yield c


@pytest.fixture
def auth(account: tuple[int, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account[1]}"}


@pytest.fixture
async def http_target() -> AsyncIterator[str]:
    """A real HTTP server on a free loopback port: /ok 200, /down 503, /slow 2 s."""
    import asyncio

    from aiohttp import web

    async def ok(_):
        return web.Response(text="ok")

    async def down(_):
        return web.Response(status=503, text="down")

    async def slow(_):
        await asyncio.sleep(2)
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/down", down)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
