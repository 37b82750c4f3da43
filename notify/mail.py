"""SMTP sending with aiosmtplib: asyncio-native (no thread per message), maintained, and it
does STARTTLS, implicit TLS and AUTH. Server settings come from VIGIL_SMTP_*."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib

from notify.transports.base import TransportError
from vigil.settings import Settings


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.smtp_ca_file:
        return None
    return ssl.create_default_context(cafile=settings.smtp_ca_file)


def new_message(settings: Settings, to: list[str], subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    return msg


async def send_message(settings: Settings, msg: EmailMessage) -> None:
    try:
        await aiosmtplib.send(
            msg, hostname=settings.smtp_host, port=settings.smtp_port,
            start_tls=settings.smtp_starttls, tls_context=_tls_context(settings),
            username=settings.smtp_username or None, password=settings.smtp_password or None,
            timeout=settings.notify_timeout_seconds)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise TransportError(f"SMTP server refused the recipients: {exc}", permanent=True) from None
    except aiosmtplib.SMTPResponseException as exc:
        # 5xx replies (bad address, authentication failed) will fail the same way again.
        raise TransportError(f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500,
                             status_code=exc.code) from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise TransportError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}") from None
