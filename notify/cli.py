"""The `vigil notifier` and `vigil report` commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from vigil.settings import Settings


def notifier(settings: Settings, run_until_signal) -> int:
    from notify.service import run_notifier

    run_until_signal(lambda stop: run_notifier(settings, stop))
    return 0


async def _report(settings: Settings, args: argparse.Namespace, week: str) -> int:
    from notify.delivery import deliver_until_idle
    from notify.outbox import enqueue_weekly_reports
    from notify.report.email import load_report, preview_html
    from notify.transports.base import TransportContext
    from notify.transports.http import make_session
    from vigil.db import open_pool
    from vigil.queries import sql

    pool = await open_pool(settings.database_url, max_size=2)
    try:
        async with pool.connection() as conn:
            row = await (await conn.execute(sql("account_by_name"), {"name": args.account})).fetchone()
        if row is None:
            print(f"vigil report: no account named {args.account!r}", file=sys.stderr)
            return 2
        account_id = row[0]
        if args.out:
            report = await load_report(pool, settings, account_id, week)
            html = await asyncio.to_thread(preview_html, report)  # charts are CPU work
            await asyncio.to_thread(Path(args.out).write_text, html)
            print(f"wrote the {week} report of {args.account} ({len(report.monitors)} monitors) to {args.out}")
        if args.send:
            async with pool.connection() as conn:
                ids = await enqueue_weekly_reports(conn, week, [account_id])
            if not ids:
                print(f"nothing to send: {args.account} has no enabled email channel, "
                      f"or the {week} report was already sent")
                return 0
            async with make_session(settings.outbound_policy()) as http:
                await deliver_until_idle(pool, TransportContext(settings=settings, http=http, pool=pool), ids,
                                         max_seconds=settings.notify_timeout_seconds * 3)
            async with pool.connection() as conn:
                rows = await (await conn.execute(
                    "SELECT status, count(*) FROM notifications WHERE id = ANY(%s) GROUP BY status",
                    (ids,))).fetchall()
            print("report delivery: " + ", ".join(f"{n} {s}" for s, n in rows)
                  + " (see GET /api/v1/notifications?event=report)")
        return 0
    finally:
        await pool.close()


def report(settings: Settings, args: argparse.Namespace) -> int:
    from notify.report.schedule import last_finished_week, parse_week

    week = args.week or last_finished_week(datetime.now(UTC), settings.report_timezone)
    try:
        parse_week(week)
    except ValueError as exc:
        print(f"vigil report: {exc}", file=sys.stderr)
        return 2
    if not args.out and not args.send:
        print("vigil report: give --out FILE.html to preview, --send to email it, or both", file=sys.stderr)
        return 2
    return asyncio.run(_report(settings, args, week))
