"""Delivering the outbox: claim due rows (SKIP LOCKED, so parallel workers get disjoint
rows), send them concurrently, then record every attempt and each row's new state in one
statement. Failures retry with backoff and jitter; permanent ones and the last try dead-letter."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from psycopg.rows import dict_row

from notify.channels import delivery_secrets
from notify.crypto import SecretKeyError, decrypt_secrets
from notify.message import Delivery
from notify.retry import backoff_seconds, next_status
from notify.transports.base import TransportContext, TransportError
from notify.transports.registry import TRANSPORTS
from vigil import logs, metrics, tracing
from vigil.masking import mask_text
from vigil.queries import sql

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Attempt:
    id: int
    attempts: int
    attempted_at: datetime
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    permanent: bool = False
    retry_after: float | None = None


def lease_seconds(ctx: TransportContext) -> float:
    # A claimed row is re-claimable after this; it must outlast a whole batch's sends
    # (concurrent, each bounded by the timeout) or a slow batch could be sent twice.
    return max(60.0, 6 * ctx.settings.notify_timeout_seconds)


# A notification's next status, as the outcome label of vigil_notification_deliveries_total.
_OUTCOME = {"sent": "sent", "pending": "retry", "dead": "dead"}

# A report row also renders the report (figures and a chart per monitor) before sending.
REPORT_LEASE_SECONDS = 1800.0


def _delivery(row: dict[str, Any], secret_key: str) -> Delivery:
    return Delivery(id=row["id"], account_id=row["account_id"], channel_id=row["channel_id"],
                    channel_name=row["channel_name"], kind=row["kind"], event=row["event"],
                    attempts=row["attempts"], created_at=row["created_at"], payload=row["payload"],
                    config=row["config"], secrets=decrypt_secrets(secret_key, row["secret_ciphertext"]),
                    incident_id=row["incident_id"])


async def _send(row: dict[str, Any], ctx: TransportContext) -> Attempt:
    """One delivery attempt, in the trace of the evaluation (or request) that queued the row."""
    with logs.bind(incident_id=row["incident_id"], correlation_id=row.get("correlation_id")), \
            tracing.span("notify.deliver", parent=row.get("traceparent"), notification_id=row["id"],
                         incident_id=row["incident_id"], channel_kind=row["kind"], event=row["event"],
                         attempt=row["attempts"]) as span:
        attempt = await _attempt(row, ctx)
        if span.is_recording():
            span.set_attribute("ok", attempt.ok)
            if attempt.status_code is not None:
                span.set_attribute("http.response.status_code", attempt.status_code)
            if attempt.error:
                span.set_status(trace.StatusCode.ERROR, attempt.error)
    return attempt


async def _attempt(row: dict[str, Any], ctx: TransportContext) -> Attempt:
    attempted_at = datetime.now(UTC)
    start = time.perf_counter()
    status_code, error, permanent, retry_after = None, None, False, None
    secrets: list[str] = delivery_secrets(row["config"], {})
    try:
        if not row["enabled"]:
            raise TransportError("channel is disabled", permanent=True)
        delivery = _delivery(row, ctx.settings.secret_key)
        secrets = delivery_secrets(delivery.config, delivery.secrets)
        status_code = await TRANSPORTS[row["kind"]](delivery, ctx)
    except TransportError as exc:
        error, permanent = str(exc), exc.permanent
        status_code, retry_after = exc.status_code, exc.retry_after
    except SecretKeyError as exc:
        error = str(exc)  # an operator can fix the key; keep retrying until attempts run out
    except Exception as exc:  # a bug in a transport must not stop the batch; log it and retry
        # Client errors can quote the URL, which for Slack and Discord is the secret.
        log.error("notification %s (%s) failed unexpectedly: %s", row["id"], row["kind"],
                  mask_text("".join(traceback.format_exception(exc)), secrets))
        error = f"internal error: {type(exc).__name__}: {exc}"
    if error is not None:
        error = mask_text(error, secrets)
    duration_ms = int((time.perf_counter() - start) * 1000)
    return Attempt(row["id"], row["attempts"], attempted_at, error is None, status_code, error,
                   duration_ms, permanent, retry_after)


def _outcome_params(attempts: list[Attempt], ctx: TransportContext) -> dict[str, list]:
    s = ctx.settings
    statuses, delays = [], []
    for a in attempts:
        status = next_status(a.ok, a.permanent, a.attempts, s.notify_max_attempts)
        delay = backoff_seconds(a.attempts, s.notify_backoff_base_seconds, s.notify_backoff_max_seconds)
        if a.retry_after is not None:  # the receiver said how long; never retry sooner
            delay = max(delay, min(a.retry_after, s.notify_backoff_max_seconds))
        statuses.append(status)
        delays.append(delay)
    return {"ids": [a.id for a in attempts], "attempts": [a.attempts for a in attempts],
            "attempted_at": [a.attempted_at for a in attempts],
            "ok": [a.ok for a in attempts], "status_codes": [a.status_code for a in attempts],
            "errors": [a.error for a in attempts], "durations": [a.duration_ms for a in attempts],
            "statuses": statuses, "delays": delays}


async def deliver_due(pool, ctx: TransportContext, ids: list[int] | None = None) -> list[Attempt]:
    """One pass: claim up to a batch of due rows, send, record. Returns the attempts made."""
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(sql("claim_due_notifications"), {
            "ids": ids, "limit": ctx.settings.notify_batch_size, "lease_s": lease_seconds(ctx),
            "report_lease_s": REPORT_LEASE_SECONDS})
        rows = await cur.fetchall()
    if not rows:
        return []
    attempts = list(await asyncio.gather(*(_send(r, ctx) for r in rows)))
    outcomes = _outcome_params(attempts, ctx)
    async with pool.connection() as conn:
        await conn.execute(sql("record_delivery_outcomes"), outcomes)
    for row, attempt, status in zip(rows, attempts, outcomes["statuses"], strict=True):
        metrics.DELIVERIES.labels(row["kind"], _OUTCOME[status]).inc()
        metrics.DELIVERY_DURATION.labels(row["kind"]).observe(attempt.duration_ms / 1000)
    for a in attempts:
        if not a.ok:
            log.warning("notification %s attempt %s failed: %s", a.id, a.attempts, a.error)
    return attempts


async def deliver_until_idle(pool, ctx: TransportContext, ids: list[int] | None = None,
                             max_seconds: float = 50.0) -> int:
    """Repeat passes while there is due work, up to max_seconds; returns attempts made."""
    deadline = time.monotonic() + max_seconds
    made = 0
    while time.monotonic() < deadline:
        batch = await deliver_due(pool, ctx, ids)
        if not batch:
            break
        made += len(batch)
    return made
