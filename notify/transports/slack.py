"""Slack incoming webhook: a coloured attachment (red firing, amber reminder, green
resolved) holding Block Kit blocks, with a plain ``text`` for notifications and old clients."""

from __future__ import annotations

import json
from typing import Any

from notify.message import Delivery
from notify.transports.base import TransportContext, TransportError
from notify.transports.http import post_json


def message(d: Delivery) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{d.title()}*\n{d.summary}"}}]
    facts = d.facts()
    if facts:
        blocks.append({"type": "section",
                       "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in facts[:10]]})
    return {"text": f"{d.title()}: {d.summary}",
            "attachments": [{"color": f"#{d.color:06x}", "blocks": blocks}]}


async def send(d: Delivery, ctx: TransportContext) -> int:
    url = d.secrets.get("url")
    if not url:
        raise TransportError("slack channel has no webhook URL", permanent=True)
    return await post_json(ctx, url, json.dumps(message(d)).encode(), {})
