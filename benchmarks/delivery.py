"""Notification delivery benchmark: signed webhooks from the outbox to a loopback receiver
(a separate process), with one and with two delivery workers, plus the cost of rendering a
weekly report email (figures + one chart per monitor).

    python -m benchmarks.delivery            # 5,000 notifications, report of 50 monitors
    python -m benchmarks.delivery --quick    # 1,000 notifications, report of 10 monitors

Baseline: one worker, batch 50. Every row must end 'sent' exactly once (checked)."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time

import psycopg
from psycopg.types.json import Jsonb

from benchmarks.harness import emit, throwaway_postgres
from notify.channels import parse_config, split_config
from notify.crypto import encrypt_secrets, generate_key
from notify.delivery import deliver_due
from notify.transports.base import TransportContext
from notify.transports.http import make_session
from vigil.db import open_pool
from vigil.devcluster import free_port, wait_for_port
from vigil.migrate import migrate
from vigil.settings import Settings

PAYLOAD = {"state": "firing", "severity": "critical", "summary": "shop is down in 2 of 3 regions",
           "monitor": {"id": 1, "name": "shop", "target": "https://shop.example.com/"},
           "rule": {"id": 1, "name": "down", "kind": "down"}}


def _receiver(port: int) -> None:
    from aiohttp import web

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _seed(dsn: str, settings: Settings, url: str, n: int, tag: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        account = conn.execute("INSERT INTO accounts (name) VALUES (%s) ON CONFLICT (name) DO UPDATE"
                               " SET name = excluded.name RETURNING id", ("bench",)).fetchone()[0]
        public, secrets = split_config("webhook", parse_config(
            "webhook", {"url": url, "secret": "bench-secret-0123456789"}, allow_private=True))
        channel = conn.execute("INSERT INTO channels (account_id, kind, name, config, secret_ciphertext)"
                               " VALUES (%s, 'webhook', %s, %s, %s) RETURNING id",
                               (account, tag, Jsonb(public), encrypt_secrets(settings.secret_key, secrets))).fetchone()[0]
        conn.execute("INSERT INTO notifications (account_id, channel_id, event, dedupe_key, payload)"
                     " SELECT %s, %s, 'firing', %s || ':' || g, %s FROM generate_series(1, %s) g",
                     (account, channel, tag, Jsonb(PAYLOAD), n))


async def _drain(settings: Settings, workers: int) -> float:
    async def worker() -> None:
        pool = await open_pool(settings.database_url, max_size=2)
        async with make_session(True) as http:
            ctx = TransportContext(settings=settings, http=http, pool=pool)
            while await deliver_due(pool, ctx):
                pass
        await pool.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - start


def _check_sent(dsn: str, n_total: int) -> None:
    with psycopg.connect(dsn) as conn:
        sent, attempts = conn.execute("SELECT count(*) FILTER (WHERE status = 'sent'),"
                                      " (SELECT count(*) FROM notification_attempts) FROM notifications").fetchone()
    if sent != n_total or attempts != n_total:
        raise SystemExit(f"delivery check failed: {sent} sent, {attempts} attempts, expected {n_total}")


async def _report_seconds(settings: Settings, monitors: int) -> tuple[float, float]:
    """(seconds for the figures, seconds for charts and the message)."""
    from notify.report.email import build_message, load_report

    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        account = conn.execute("SELECT id FROM accounts WHERE name = 'bench'").fetchone()[0]
        conn.execute("INSERT INTO regions (name) VALUES ('local') ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms)"
                     " SELECT %s, 'm' || g, 'http', 'https://example.com/' || g, 60, 5000"
                     " FROM generate_series(1, %s) g", (account, monitors))
        conn.execute("""INSERT INTO check_results (time, monitor_id, region_id, latency_us, up)
            SELECT t, m.id, 1, 50000 + (random() * 100000)::int, random() > 0.001
            FROM monitors m, generate_series('2026-11-09'::timestamptz, '2026-11-22 23:59', '5 minutes') t""")
    pool = await open_pool(settings.database_url, max_size=2)
    from aggregator.rollup import roll

    await roll(pool)  # as in production, where the aggregator has rolled finished hours
    start = time.perf_counter()
    report = await load_report(pool, settings, account, "2026-W47")
    loaded = time.perf_counter()
    msg = build_message(settings, report, ["boss@example.test"])
    done = time.perf_counter()
    await pool.close()
    assert len(msg.as_bytes()) > 0
    return loaded - start, done - loaded


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 1000 if args.quick else 5000
    monitors = 10 if args.quick else 50
    port = free_port()
    receiver = multiprocessing.get_context("spawn").Process(target=_receiver, args=(port,), daemon=True)
    receiver.start()
    try:
        wait_for_port(port, timeout=20)
        with throwaway_postgres(durable=True) as pg:
            settings = Settings(database_url=pg.dsn, secret_key=generate_key(), allow_private_targets=True,
                                notify_batch_size=50)
            migrate(settings)
            url = f"http://127.0.0.1:{port}/hook"
            figures = {"notifications": n}
            for workers in (1, 2):
                _seed(pg.dsn, settings, url, n, f"w{workers}")
                seconds = asyncio.run(_drain(settings, workers))
                figures[f"sent_per_s_{workers}w"] = round(n / seconds, 1)
                print(f"{workers} worker(s): {n} signed webhooks in {seconds:.2f} s = {n / seconds:,.0f}/s")
            _check_sent(pg.dsn, 2 * n)
            figures["ratio_2w_vs_1w"] = round(figures["sent_per_s_2w"] / figures["sent_per_s_1w"], 2)
            print(f"2 workers vs 1 (baseline): x{figures['ratio_2w_vs_1w']}")
            data_s, render_s = asyncio.run(_report_seconds(settings, monitors))
            report_s = data_s + render_s
            figures.update(report_monitors=monitors, report_data_s=round(data_s, 2),
                           report_render_s=round(render_s, 2),
                           report_ms_per_monitor=round(1000 * report_s / monitors, 1))
            print(f"weekly report of {monitors} monitors (2 weeks of 5-minute results): figures {data_s:.2f} s, "
                  f"charts+message {render_s:.2f} s, {1000 * report_s / monitors:.0f} ms per monitor")
    finally:
        receiver.terminate()
        receiver.join(5)
    emit(figures)


if __name__ == "__main__":
    main()
