"""The worker's batch with the new kinds: results stored with their error kinds and
attempts, and the TLS certificates that HTTPS and tls checks saw recorded per region."""
# ruff: noqa: F811 (pytest fixtures imported from tests/checks_fixtures.py)

from __future__ import annotations

import json

import pytest

from ingest.worker import run_batch, shutdown, startup
from tests.checks_fixtures import ca, tls_servers, web_server  # noqa: F401 (fixtures)
from vigil.constants import ErrorKind

pytestmark = pytest.mark.timeout(60)


def _monitor(db, name: str, kind: str, target: str, expectations: dict) -> int:
    return db.execute(
        "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, expectations) "
        "VALUES ((SELECT id FROM accounts LIMIT 1), %s, %s, %s, 60, 2000, %s) RETURNING id",
        (name, kind, target, json.dumps(expectations))).fetchone()[0]


async def test_batch_stores_results_and_certificates(settings, db, account, tls_servers, web_server):
    region_id = db.execute("INSERT INTO regions (name) VALUES ('local') RETURNING id").fetchone()[0]
    https_id = _monitor(db, "site", "http", f"https://localhost:{tls_servers['valid']}/status/200",
                        {"tls_skip_verify": True})
    tls_id = _monitor(db, "cert", "tls", f"tls://localhost:{tls_servers['expiring']}",
                      {"tls_skip_verify": True, "cert_min_days": 14})
    flaky_id = _monitor(db, "flaky", "http", f"{web_server}/flaky/1", {"attempts": 2})
    hb_id = _monitor(db, "hb", "heartbeat", "heartbeat://hb", {})
    payload = [(https_id, "http", f"https://localhost:{tls_servers['valid']}/status/200", 2000,
                {"tls_skip_verify": True}, 1),
               (tls_id, "tls", f"tls://localhost:{tls_servers['expiring']}", 2000,
                {"tls_skip_verify": True, "cert_min_days": 14}, 1),
               (flaky_id, "http", f"{web_server}/flaky/1", 2000, {"attempts": 2}, 2),
               (hb_id, "heartbeat", "heartbeat://hb", 1000, {}, 1)]
    ctx = {"settings": settings.model_copy(update={"allow_private_targets": True})}
    await startup(ctx)
    ctx["check_ctx"].retry_base_s = 0.05
    try:
        assert await run_batch(ctx, 1_800_000_000, region_id, payload) == 4
    finally:
        await shutdown(ctx)
    rows = dict((r[0], r[1:]) for r in db.execute(
        "SELECT monitor_id, up, error_kind, attempts FROM check_results ORDER BY monitor_id"))
    assert rows[https_id] == (True, 0, 1)
    assert rows[tls_id] == (False, int(ErrorKind.cert_expiring), 1)
    assert rows[flaky_id] == (True, 0, 2)
    assert rows[hb_id] == (True, 0, 1)  # created just now: within its first interval
    certs = dict((r[0], r[1:]) for r in db.execute(
        "SELECT monitor_id, region_id, (not_after - now()) > interval '300 days' FROM tls_certificates"))
    assert certs == {https_id: (region_id, True), tls_id: (region_id, False)}
