"""Recording the TLS certificates that HTTPS and tls checks saw (tls_certificates table,
read by the tls_expiry rule and the API). Best effort: the result rows are what matters,
and the next check records the certificate again, so a failure here is logged, never
allowed to fail or retry the batch."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from vigil.queries import sql

log = logging.getLogger(__name__)


def certificate_of(monitor_id: int, detail: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    cert = detail.get("certificate")
    return (monitor_id, cert) if cert else None


async def store_certificates(pool: AsyncConnectionPool, region_id: int,
                             seen: list[tuple[int, dict[str, Any]]]) -> None:
    if not seen:
        return
    params = {
        "region_id": region_id,
        "monitor_ids": [m for m, _ in seen],
        "not_after": [datetime.fromisoformat(c["not_after"]) for _, c in seen],
        "subjects": [c["subject"] for _, c in seen],
        "issuers": [c["issuer"] for _, c in seen],
    }
    try:
        async with pool.connection(timeout=2) as conn:  # never hold a batch while the database is down
            await conn.execute(sql("store_tls_certificates"), params)
    except Exception:
        log.warning("could not record %d TLS certificates; the next checks will", len(seen), exc_info=True)
