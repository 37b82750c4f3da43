"""`vigil up`'s demo: a week of history seeded once and rolled up, a down rule on the
flapping and the down monitor, and a webhook channel to the demo target's receiver."""

import asyncio
import json
from datetime import UTC, datetime

import pytest
from aiohttp import web

from evaluator.tick import evaluate_minute
from notify.crypto import generate_key
from notify.delivery import deliver_due
from notify.transports.base import TransportContext
from notify.transports.http import make_session
from vigil.commands import demo
from vigil.commands.up import _ensure_demo
from vigil.db import open_pool

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def demo_target():
    runner = web.AppRunner(demo.make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    demo.RECEIVED.clear()
    yield site._server.sockets[0].getsockname()[1]
    await runner.cleanup()


async def test_first_start_seeds_a_week_rolls_it_up_and_alerts_to_the_demo_receiver(
        settings, db, demo_target, monkeypatch):
    key = generate_key()
    monkeypatch.setenv("VIGIL_SECRET_KEY", key)  # the demo target derives the signing secret from it
    token = await asyncio.to_thread(_ensure_demo, settings, demo_target, key)

    per_monitor = dict(db.execute(
        "SELECT m.name, count(*) FILTER (WHERE NOT r.up)::float / count(*) FROM check_results r"
        " JOIN monitors m ON m.id = r.monitor_id GROUP BY m.name").fetchall())
    assert per_monitor["demo: retired service"] == 1.0
    assert per_monitor["demo: flapping cart"] == pytest.approx(1 / 3, abs=0.01)
    assert per_monitor["demo: homepage"] < 0.01
    rows, span = db.execute("SELECT count(*), max(time) - min(time) FROM check_results").fetchone()
    assert rows == 7 * 86_400 // 30 * 4 + 7 * 86_400 // 60 * 2 and span.days == 6  # 4 monitors every 30 s, 2 every 60 s
    assert db.execute("SELECT count(*) FROM rollup_1d WHERE region_id = 0").fetchone()[0] >= 6 * 6
    rules = db.execute("SELECT m.name, r.params FROM alert_rules r JOIN monitors m ON m.id = r.monitor_id"
                       " ORDER BY 1").fetchall()
    assert rules == [("demo: flapping cart", {"failures": 2}), ("demo: retired service", {"failures": 2})]

    # The down monitor's last two slots are down: the evaluator fires, the notifier delivers
    # a webhook whose signature the demo receiver verifies.
    pool = await open_pool(settings.database_url, max_size=2)
    try:
        await evaluate_minute(pool, datetime.now(UTC))
        async with make_session(True) as http:
            sent = await deliver_due(pool, TransportContext(settings=settings.model_copy(
                update={"secret_key": key}), http=http, pool=pool))
    finally:
        await pool.close()
    assert sent and all(a.ok for a in sent)
    got = [json.loads(r["body"]) for r in demo.RECEIVED if r["signature_ok"] and r["event"] == "firing"]
    assert "demo: retired service" in {g["data"]["monitor"]["name"] for g in got}

    # A second start keeps everything and seeds nothing, but issues a new key.
    again = await asyncio.to_thread(_ensure_demo, settings, demo_target, key)
    assert again != token
    assert db.execute("SELECT count(*) FROM check_results").fetchone()[0] == rows
    assert db.execute("SELECT count(*) FROM alert_rules").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM channels").fetchone()[0] == 1
