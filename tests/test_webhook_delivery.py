import asyncio
import time

import pytest

from notify.delivery import deliver_due
from notify.transports.webhook import SIGNATURE_HEADER, sign, verify
from tests.notify_fixtures import *  # noqa: F403 (fixtures)
from tests.notify_fixtures import SECRET, add_notification, make_channel


async def _drain(npool, ctx, rounds=40):
    """Delivery passes until nothing is pending (retries wait a few tens of ms)."""
    made = []
    for _ in range(rounds):
        made += await deliver_due(npool, ctx)
        if not await _pending(npool):
            return made
        await asyncio.sleep(0.05)
    return made


async def _pending(npool) -> int:
    async with npool.connection() as conn:
        return (await (await conn.execute(
            "SELECT count(*) FROM notifications WHERE status IN ('pending', 'delivering')")).fetchone())[0]


@pytest.mark.timeout(30)
async def test_signed_webhook_fails_twice_then_succeeds_with_three_attempts_recorded(
        db, account, nsettings, receiver, transport_ctx, npool, nclient, auth):
    receiver.script = [500, 500]
    ch = make_channel(db, nsettings, account[0], "webhook", {"url": receiver.url, "secret": SECRET})
    nid = add_notification(db, account[0], ch, "incident:7:channel:1:firing")

    await _drain(npool, transport_ctx)

    assert len(receiver.requests) == 3
    for headers, body in receiver.requests:
        assert verify(SECRET, headers[SIGNATURE_HEADER], body)
        assert not verify("another-secret-0123", headers[SIGNATURE_HEADER], body)
    doc = receiver.bodies()[-1]
    assert doc["id"] == nid and doc["event"] == "firing" and doc["data"]["summary"].startswith("shop is down")
    assert receiver.requests[-1][0]["Vigil-Delivery"] == str(nid)

    detail = (await nclient.get(f"/api/v1/notifications/{nid}", headers=auth)).json()
    assert detail["status"] == "sent" and detail["attempts"] == 3 and detail["sent_at"]
    assert [(a["ok"], a["status_code"]) for a in detail["attempt_log"]] == [(False, 500), (False, 500), (True, 200)]
    assert "500" in detail["attempt_log"][0]["error"]


@pytest.mark.timeout(30)
async def test_permanent_4xx_is_dead_after_one_attempt(db, account, nsettings, receiver, transport_ctx, npool,
                                                        nclient, auth):
    receiver.script = [404]
    ch = make_channel(db, nsettings, account[0], "webhook", {"url": receiver.url, "secret": SECRET})
    nid = add_notification(db, account[0], ch, "k1")
    await _drain(npool, transport_ctx)
    assert len(receiver.requests) == 1
    status, attempts, err = db.execute("SELECT status, attempts, last_error FROM notifications WHERE id = %s",
                                       (nid,)).fetchone()
    assert (status, attempts) == ("dead", 1) and "404" in err
    assert db.execute("SELECT count(*) FROM notification_attempts").fetchone()[0] == 1
    dead = (await nclient.get("/api/v1/notifications", params={"status": "dead"}, headers=auth)).json()
    assert [n["id"] for n in dead] == [nid]
    assert (await nclient.get("/api/v1/notifications", params={"status": "sent"}, headers=auth)).json() == []
    assert (await nclient.get("/api/v1/notifications", params={"status": "lost"}, headers=auth)).status_code == 400


@pytest.mark.timeout(30)
async def test_429_and_timeouts_retry_and_the_last_try_dead_letters(db, account, nsettings, receiver,
                                                                      transport_ctx, npool):
    receiver.script = [429, 503, 502, 500, 500]
    ch = make_channel(db, nsettings, account[0], "webhook", {"url": receiver.url, "secret": SECRET})
    nid = add_notification(db, account[0], ch, "k2")
    await _drain(npool, transport_ctx)
    assert len(receiver.requests) == nsettings.notify_max_attempts == 4
    status, attempts = db.execute("SELECT status, attempts FROM notifications WHERE id = %s", (nid,)).fetchone()
    assert (status, attempts) == ("dead", 4)
    codes = [r[0] for r in db.execute(
        "SELECT status_code FROM notification_attempts WHERE notification_id = %s ORDER BY id", (nid,))]
    assert codes == [429, 503, 502, 500]


@pytest.mark.timeout(30)
async def test_a_receiver_slower_than_the_timeout_is_retried(db, account, nsettings, receiver, npool):
    from notify.transports.base import TransportContext
    from notify.transports.http import make_session

    receiver.delay = 0.6
    ch = make_channel(db, nsettings, account[0], "webhook", {"url": receiver.url, "secret": SECRET})
    nid = add_notification(db, account[0], ch, "k3")
    fast = nsettings.model_copy(update={"notify_timeout_seconds": 0.2})
    async with make_session(True) as http:
        attempts = await deliver_due(npool, TransportContext(settings=fast, http=http, pool=npool))
    assert len(attempts) == 1 and not attempts[0].ok and "no answer within" in attempts[0].error
    assert db.execute("SELECT status FROM notifications WHERE id = %s", (nid,)).fetchone()[0] == "pending"


@pytest.mark.timeout(60)
async def test_two_delivery_workers_in_parallel_send_each_row_once(db, account, nsettings, receiver, npool):
    from notify.transports.base import TransportContext
    from notify.transports.http import make_session
    from vigil.db import open_pool

    receiver.delay = 0.01
    ch = make_channel(db, nsettings, account[0], "webhook", {"url": receiver.url, "secret": SECRET})
    ids = [add_notification(db, account[0], ch, f"row{i}") for i in range(120)]
    small = nsettings.model_copy(update={"notify_batch_size": 10})

    async def worker():
        pool = await open_pool(small.database_url, max_size=2)
        async with make_session(True) as http:
            ctx = TransportContext(settings=small, http=http, pool=pool)
            sent = 0
            while batch := await deliver_due(pool, ctx):
                sent += len(batch)
        await pool.close()
        return sent

    counts = await asyncio.gather(worker(), worker())
    delivered = sorted(b["id"] for b in receiver.bodies())
    assert delivered == ids  # every row once, none twice
    assert sum(counts) == 120 and min(counts) > 0  # both workers took part
    assert db.execute("SELECT count(*) FROM notifications WHERE status = 'sent'").fetchone()[0] == 120
    assert db.execute("SELECT count(*) FROM notification_attempts").fetchone()[0] == 120


@pytest.mark.timeout(30)
async def test_a_name_resolving_to_loopback_is_refused_when_private_targets_are_not_allowed(
        db, account, nsettings, receiver, npool):
    from notify.transports.base import TransportContext
    from notify.transports.http import make_session

    url = receiver.url.replace("127.0.0.1", "localhost")
    ch = make_channel(db, nsettings, account[0], "webhook", {"url": url, "secret": SECRET})
    nid = add_notification(db, account[0], ch, "k4")
    strict = nsettings.model_copy(update={"allow_private_targets": False})
    async with make_session(False) as http:
        await deliver_due(npool, TransportContext(settings=strict, http=http, pool=npool))
    assert receiver.requests == []
    status, err = db.execute("SELECT status, last_error FROM notifications WHERE id = %s", (nid,)).fetchone()
    assert status == "dead" and "VIGIL_ALLOW_PRIVATE_TARGETS" in err


def test_signature_verification_rejects_tampering_and_replays():
    body = b'{"id":1}'
    now = int(time.time())
    header = sign(SECRET, now, body)
    assert verify(SECRET, header, body, now=now + 10)
    assert not verify(SECRET, header, b'{"id":2}', now=now)
    assert not verify(SECRET, header, body, tolerance_s=300, now=now + 301)  # a replay, too old
    assert not verify(SECRET, header.replace(f"t={now}", f"t={now + 5}"), body, now=now)  # moved timestamp
    assert not verify(SECRET, "garbage", body)


@pytest.mark.timeout(30)
async def test_a_row_left_delivering_by_a_dead_worker_is_claimed_again_only_after_its_lease(
        db, account, nsettings, receiver, transport_ctx, npool):
    ch = make_channel(db, nsettings, account[0], "webhook", {"url": receiver.url, "secret": SECRET})
    stale = add_notification(db, account[0], ch, "stale")
    held = add_notification(db, account[0], ch, "held")
    db.execute("UPDATE notifications SET status = 'delivering', attempts = 1, next_attempt_at = now() - interval '1 s'"
               " WHERE id = %s", (stale,))
    db.execute("UPDATE notifications SET status = 'delivering', attempts = 1, next_attempt_at = now() + interval '1 min'"
               " WHERE id = %s", (held,))
    attempts = await deliver_due(npool, transport_ctx)
    assert [(a.id, a.ok, a.attempts) for a in attempts] == [(stale, True, 2)]
    assert [b["id"] for b in receiver.bodies()] == [stale]
    assert db.execute("SELECT status FROM notifications WHERE id = %s", (held,)).fetchone()[0] == "delivering"


async def test_a_late_outcome_from_a_worker_whose_lease_ran_out_does_not_overwrite_the_new_claim(
        db, account, nsettings, npool):
    from datetime import UTC, datetime

    from vigil.queries import sql

    ch = make_channel(db, nsettings, account[0], "webhook", {"url": "http://127.0.0.1:9/x", "secret": SECRET})
    nid = add_notification(db, account[0], ch, "late")
    db.execute("UPDATE notifications SET status = 'delivering', attempts = 2 WHERE id = %s", (nid,))
    async with npool.connection() as conn:  # the outcome of attempt 1, arriving after attempt 2 was claimed
        await conn.execute(sql("record_delivery_outcomes"), {
            "ids": [nid], "attempts": [1], "attempted_at": [datetime.now(UTC)], "ok": [False],
            "status_codes": [500], "errors": ["late"], "durations": [1], "statuses": ["dead"], "delays": [0.0]})
    assert db.execute("SELECT status, attempts FROM notifications WHERE id = %s", (nid,)).fetchone() == ("delivering", 2)
    assert db.execute("SELECT error FROM notification_attempts").fetchall() == [("late",)]  # still on record


@pytest.mark.timeout(30)
async def test_a_failed_delivery_stores_the_receivers_status_line_never_its_body(db, account, nsettings,
                                                                                 transport_ctx, npool):
    from aiohttp import web

    async def leaky(_):
        return web.Response(status=500, text="Traceback: db password=hunter2 at 10.0.0.7")

    app = web.Application()
    app.router.add_post("/hook", leaky)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"
    try:
        ch = make_channel(db, nsettings, account[0], "webhook", {"url": url, "secret": SECRET})
        nid = add_notification(db, account[0], ch, "leak")
        attempts = await deliver_due(npool, transport_ctx)
    finally:
        await runner.cleanup()
    assert attempts[0].error == "receiver answered HTTP 500 Internal Server Error"
    err = db.execute("SELECT last_error FROM notifications WHERE id = %s", (nid,)).fetchone()[0]
    assert err == "receiver answered HTTP 500 Internal Server Error"
    logged = db.execute("SELECT string_agg(error, ' ') FROM notification_attempts").fetchone()[0]
    assert "hunter2" not in logged


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["slack", "discord"])
async def test_secret_urls_are_masked_in_stored_errors_and_logs(db, account, nsettings, transport_ctx, npool,
                                                                kind, caplog):
    """A receiver that answers with something that is not HTTP makes aiohttp quote the URL."""

    async def garbage(reader, writer):
        await reader.read(100)
        writer.write(b"NOT-HTTP garbage\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/webhooks/123/TOKENSECRETVALUE"
    try:
        ch = make_channel(db, nsettings, account[0], kind, {"url": url})
        nid = add_notification(db, account[0], ch, f"mask-{kind}")
        attempts = await deliver_due(npool, transport_ctx)
    finally:
        server.close()
        await server.wait_closed()
    assert attempts and not attempts[0].ok
    err = db.execute("SELECT last_error FROM notifications WHERE id = %s", (nid,)).fetchone()[0]
    stored = db.execute("SELECT string_agg(error, ' ') FROM notification_attempts").fetchone()[0]
    for text in (err, stored, caplog.text):
        assert "TOKENSECRETVALUE" not in text and "/api/webhooks/123" not in text, text
    assert "127.0.0.1" in err or "invalid HTTP" in err
