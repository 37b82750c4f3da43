"""Generic webhook: the notification as JSON, signed so the receiver can tell it came from
us and is fresh. Header ``Vigil-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` where the
HMAC key is the channel's secret and the message is ``f"{t}.{body}"``; a receiver recomputes
it over the raw body and rejects signatures older than its tolerance (docs/notifications.md
"The webhook signature" has a snippet)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from notify.message import Delivery
from notify.transports.base import TransportContext, TransportError
from notify.transports.http import post_json

SIGNATURE_HEADER = "Vigil-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300, now: float | None = None) -> bool:
    """The receiver's side (used by the tests and the demo receiver; the snippet in
    docs/notifications.md does the same)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


async def send(d: Delivery, ctx: TransportContext) -> int:
    secret = d.secrets.get("secret")
    if not secret:
        raise TransportError("webhook channel has no signing secret", permanent=True)
    body = json.dumps(d.body(), separators=(",", ":"), default=str).encode()
    headers = {SIGNATURE_HEADER: sign(secret, int(time.time()), body), "Vigil-Event": d.event,
               "Vigil-Delivery": str(d.id)}
    return await post_json(ctx, d.config["url"], body, headers)
