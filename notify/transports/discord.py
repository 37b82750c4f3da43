"""Discord webhook: one embed coloured by state, the facts as inline fields."""

from __future__ import annotations

import json
from typing import Any

from notify.message import Delivery
from notify.transports.base import TransportContext, TransportError
from notify.transports.http import post_json


def message(d: Delivery) -> dict[str, Any]:
    embed = {"title": d.title()[:256], "description": d.summary[:4096], "color": d.color,
             "fields": [{"name": k, "value": v[:1024], "inline": True} for k, v in d.facts()[:25]],
             "timestamp": d.created_at.isoformat(), "footer": {"text": "Vigil"}}
    return {"username": "Vigil", "embeds": [embed], "allowed_mentions": {"parse": []}}


async def send(d: Delivery, ctx: TransportContext) -> int:
    url = d.secrets.get("url")
    if not url:
        raise TransportError("discord channel has no webhook URL", permanent=True)
    return await post_json(ctx, url, json.dumps(message(d)).encode(), {})
