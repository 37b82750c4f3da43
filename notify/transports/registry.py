"""One module per channel kind, each ``async def send(delivery, ctx)``, registered here."""

from __future__ import annotations

from notify.transports import discord, email, slack, webhook
from notify.transports.base import Transport

TRANSPORTS: dict[str, Transport] = {
    "webhook": webhook.send,
    "slack": slack.send,
    "discord": discord.send,
    "email": email.send,
}
