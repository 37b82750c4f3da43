import pytest

from notify.delivery import deliver_due
from notify.transports.base import TransportContext
from tests.notify_fixtures import *  # noqa: F403 (fixtures)
from tests.notify_fixtures import add_notification, make_channel


@pytest.mark.timeout(30)
async def test_alert_email_is_received_by_a_real_smtp_server(db, account, smtp_server, npool, transport_ctx):
    inbox, smtp_settings = smtp_server
    ch = make_channel(db, smtp_settings, account[0], "email", {"to": ["ops@example.test", "cto@example.test"]})
    nid = add_notification(db, account[0], ch, "e1")
    ctx = TransportContext(settings=smtp_settings, http=transport_ctx.http, pool=npool)
    attempts = await deliver_due(npool, ctx)
    assert [a.ok for a in attempts] == [True], attempts
    (rcpts, msg), = inbox.messages
    assert sorted(rcpts) == ["cto@example.test", "ops@example.test"]
    assert msg["Subject"] == "[FIRING] shop: shop is down in 2 of 3 regions"
    assert msg["From"] == "vigil@example.test" and msg["Vigil-Delivery"] == str(nid)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Severity: critical" in text and "Target: https://shop.example.com/health" in text
    assert "<th align='left'>Rule</th><td>shop down</td>" in html


@pytest.mark.timeout(30)
async def test_unreachable_smtp_server_is_retried_not_dead(db, account, nsettings, npool, transport_ctx):
    from vigil.devcluster import free_port

    closed = nsettings.model_copy(update={"smtp_port": free_port()})
    ch = make_channel(db, closed, account[0], "email", {"to": ["ops@example.test"]})
    nid = add_notification(db, account[0], ch, "e2")
    attempts = await deliver_due(npool, TransportContext(settings=closed, http=transport_ctx.http, pool=npool))
    assert not attempts[0].ok and "SMTP 127.0.0.1" in attempts[0].error
    assert db.execute("SELECT status FROM notifications WHERE id = %s", (nid,)).fetchone()[0] == "pending"


@pytest.mark.timeout(30)
async def test_email_over_starttls_with_login(db, account, nsettings, npool, transport_ctx, tmp_path):
    import asyncio
    import ssl

    import trustme
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    from tests.notify_fixtures import _Inbox

    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"vigil", b"s3cret")
        logins.append((mechanism, ok))
        return AuthResult(success=ok)

    inbox = _Inbox()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(inbox, tls_context=server_tls, require_starttls=True, authenticator=authenticator,
                     auth_require_tls=True), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        base = nsettings.model_copy(update={"smtp_port": port, "smtp_starttls": True, "smtp_ca_file": str(ca_file),
                                            "smtp_username": "vigil", "smtp_password": "s3cret"})
        ch = make_channel(db, base, account[0], "email", {"to": ["ops@example.test"]})
        add_notification(db, account[0], ch, "tls1")
        attempts = await deliver_due(npool, TransportContext(settings=base, http=transport_ctx.http, pool=npool))
        assert [a.ok for a in attempts] == [True], attempts
        assert len(inbox.messages) == 1 and logins and all(ok for _, ok in logins)

    finally:
        server.close()
        await server.wait_closed()
