"""Assembling the weekly report: figures, charts, and the multipart email (text, and HTML
with the charts as related inline images referenced by Content-ID)."""

from __future__ import annotations

import asyncio
import base64
from email.message import EmailMessage
from email.utils import make_msgid

from notify.mail import new_message
from notify.report import render
from notify.report.chart import monitor_chart
from notify.report.data import Report, build_report
from notify.transports.base import TransportContext
from vigil.settings import Settings


async def load_report(pool, settings: Settings, account_id: int, week: str) -> Report:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT name FROM accounts WHERE id = %s", (account_id,))
        row = await cur.fetchone()
        name = row[0] if isinstance(row, tuple) else row["name"]
        return await build_report(conn, account_id, name, week, settings.report_timezone)


def preview_html(report: Report) -> str:
    """A standalone HTML file with the charts embedded as data: URIs."""
    charts = {m.id: base64.b64encode(monitor_chart(m, report.start, report.end)).decode()
              for m in report.monitors}
    return render.html(report, lambda m: f"data:image/png;base64,{charts[m.id]}")


def build_message(settings: Settings, report: Report, to: list[str]) -> EmailMessage:
    msg = new_message(settings, to, render.subject(report))
    cids = {m.id: make_msgid(f"chart{m.id}") for m in report.monitors}
    msg.set_content(render.text(report))
    msg.add_alternative(render.html(report, lambda m: "cid:" + cids[m.id][1:-1]), subtype="html")
    html_part = msg.get_payload()[1]
    for m in report.monitors:
        html_part.add_related(monitor_chart(m, report.start, report.end), "image", "png", cid=cids[m.id],
                              filename=f"monitor-{m.id}.png", disposition="inline")
    return msg


async def report_message(ctx: TransportContext, account_id: int, week: str, to: list[str]) -> EmailMessage:
    report = await load_report(ctx.pool, ctx.settings, account_id, week)
    # Drawing charts takes ~50 ms each: off the event loop, so other deliveries keep going.
    return await asyncio.to_thread(build_message, ctx.settings, report, to)
