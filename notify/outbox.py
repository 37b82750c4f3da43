"""Writing to the notification outbox from this package (tests and reports). Incident
notifications are written by the evaluator, in the transaction of the incident change."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from vigil import logs, tracing
from vigil.constants import OUTBOX_CHANNEL
from vigil.listen import send
from vigil.queries import sql


async def enqueue_test(conn: AsyncConnection, account_id: int, channel_id: int, channel_name: str,
                       nonce: str) -> dict[str, Any]:
    payload = {"state": "test", "severity": "info",
               "summary": f"Test notification from Vigil for channel {channel_name!r}"}
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(sql("enqueue_test_notification"), {
        "account_id": account_id, "channel_id": channel_id, "nonce": nonce, "payload": Jsonb(payload),
        # The API request that asked for it, so its delivery leads back to that request.
        "correlation_id": logs.current("request_id"), "traceparent": tracing.traceparent()})
    row = await cur.fetchone()
    await send(conn, OUTBOX_CHANNEL)  # delivered with the row's commit
    return {"notification_id": row["id"], "status": row["status"]}


async def enqueue_weekly_reports(conn: AsyncConnection, week: str,
                                 account_ids: list[int] | None = None) -> list[int]:
    """Queue the report of ISO week ``week`` for every email channel; returns the new rows'
    ids (none when that week was queued before)."""
    cur = await conn.execute(sql("enqueue_weekly_reports"), {"week": week, "account_ids": account_ids})
    return [r[0] if isinstance(r, tuple) else r["id"] for r in await cur.fetchall()]
