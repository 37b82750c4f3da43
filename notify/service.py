"""`vigil notifier`: the delivery worker. A poll loop rather than one arq job per row: each
pass claims a batch with FOR UPDATE SKIP LOCKED, so any number of notifiers run side by
side without sending a row twice, and an idle one costs one indexed query per poll. A
NOTIFY from the evaluator wakes it as soon as outbox rows are committed (notify/wake.py). Once a
minute it also queues the weekly SLO reports when they are due (idempotent: the outbox's
dedupe key holds the account, week and channel)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from notify.delivery import deliver_due
from notify.outbox import enqueue_weekly_reports
from notify.report.schedule import due_week
from notify.transports.base import TransportContext
from notify.transports.http import make_session
from notify.wake import OutboxWake
from vigil import metrics
from vigil.db import open_pool
from vigil.queries import sql
from vigil.settings import Settings

log = logging.getLogger(__name__)
REPORT_CHECK_SECONDS = 60.0
# How often the outbox gauges (oldest undelivered row, rows undelivered) are refreshed.
OUTBOX_SAMPLE_SECONDS = 5.0


async def sample_outbox(pool) -> None:
    async with pool.connection() as conn:
        age, rows = await (await conn.execute(sql("outbox_undelivered"))).fetchone()
    metrics.OUTBOX_OLDEST.set(age)
    metrics.OUTBOX_UNDELIVERED.set(rows)


async def queue_due_reports(pool, settings: Settings, now: datetime | None = None) -> list[int]:
    week = due_week(now or datetime.now(UTC), settings.report_weekday, settings.report_hour,
                    settings.report_timezone)
    if week is None:
        return []
    async with pool.connection() as conn:
        ids = await enqueue_weekly_reports(conn, week)
    if ids:
        log.info("queued %d weekly report(s) for %s", len(ids), week)
    return ids


async def run_notifier(settings: Settings, stop: asyncio.Event) -> None:
    pool = await open_pool(settings.database_url, max_size=4, wait=False)
    http = make_session(settings.outbound_policy())
    ctx = TransportContext(settings=settings, http=http, pool=pool)
    wake = OutboxWake(settings.database_url)
    wake.start()
    next_report_check = next_outbox_sample = 0.0
    exporter = metrics.serve(settings, "notifier")
    log.info("notifier started")
    try:
        while not stop.is_set():
            sent = []
            wake.clear()
            try:
                if time.monotonic() >= next_report_check:
                    next_report_check = time.monotonic() + REPORT_CHECK_SECONDS
                    await queue_due_reports(pool, settings)
                if exporter and time.monotonic() >= next_outbox_sample:
                    next_outbox_sample = time.monotonic() + OUTBOX_SAMPLE_SECONDS
                    await sample_outbox(pool)
                sent = await deliver_due(pool, ctx)
            except Exception:  # database away and the like: log, wait, try again
                log.exception("delivery pass failed; retrying in %.1f s", settings.notify_poll_seconds)
            if not sent:
                await wake.sleep(stop, settings.notify_poll_seconds)
    finally:
        if exporter:
            exporter.close()
        await wake.close()
        await http.close()
        await pool.close()
