"""Email channel: an alert as a short text + HTML mail, or the weekly SLO report."""

from __future__ import annotations

from email.message import EmailMessage
from html import escape

from notify.mail import new_message, send_message
from notify.message import Delivery
from notify.transports.base import TransportContext


def alert_message(d: Delivery, ctx: TransportContext) -> EmailMessage:
    msg = new_message(ctx.settings, d.config["to"], f"{d.title()}: {d.summary}"[:200])
    facts = d.facts()
    text = "\n".join([d.summary, "", *[f"{k}: {v}" for k, v in facts]])
    rows = "".join(f"<tr><th align='left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    html = (f"<html><body><h2 style='color:#{d.color:06x}'>{escape(d.title())}</h2>"
            f"<p>{escape(d.summary)}</p><table>{rows}</table></body></html>")
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg["Vigil-Delivery"] = str(d.id)
    return msg


async def send(d: Delivery, ctx: TransportContext) -> None:
    if d.event == "report":
        from notify.report.email import report_message

        msg = await report_message(ctx, d.account_id, d.payload["week"], d.config["to"])
    else:
        msg = alert_message(d, ctx)
    await send_message(ctx.settings, msg)
    return None
