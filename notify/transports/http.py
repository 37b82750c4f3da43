"""POSTing a JSON document to a receiver, with the outbound-address rule and status mapping
every HTTP transport shares."""

from __future__ import annotations

import ipaddress
from http import HTTPStatus
from urllib.parse import urlsplit

import aiohttp

from notify.retry import is_permanent_status
from notify.transports.base import TransportContext, TransportError
from vigil.netguard import BlockedTarget, GuardedResolver, Policy, ensure_allowed, guarded_socket_factory


def make_session(allow_private: bool | Policy) -> aiohttp.ClientSession:
    """One session per delivery worker: the resolver gives a clear refusal for names that
    resolve only to forbidden addresses, the socket factory judges the address connected to."""
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow_private), limit=100,
                                     socket_factory=guarded_socket_factory(allow_private))
    return aiohttp.ClientSession(connector=connector, headers={"User-Agent": "Vigil-Notifier/0.1"})


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _check_literal(url: str, policy: Policy) -> None:
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ensure_allowed(host, policy, port)  # aiohttp skips the resolver for IP literals


def status_line(status: int) -> str:
    """A receiver's answer as a status line only: its body is the receiver's business and is
    never stored (every key of the account can read a notification's last error)."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


async def post_json(ctx: TransportContext, url: str, body: bytes, headers: dict[str, str]) -> int:
    timeout = aiohttp.ClientTimeout(total=ctx.settings.notify_timeout_seconds)
    try:
        _check_literal(url, ctx.settings.outbound_policy())
        async with ctx.http.post(url, data=body, headers={"Content-Type": "application/json", **headers},
                                 timeout=timeout, allow_redirects=False) as resp:
            status = resp.status
            retry_after = _retry_after(resp.headers.get("Retry-After"))
    except BlockedTarget as exc:
        raise TransportError(str(exc), permanent=True) from None
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, BlockedTarget):
            raise TransportError(str(exc.os_error), permanent=True) from None
        raise TransportError(f"cannot connect: {exc}") from None
    except TimeoutError:
        raise TransportError(f"no answer within {ctx.settings.notify_timeout_seconds:g} s") from None
    except aiohttp.ClientResponseError as exc:
        # The parser's message quotes what the receiver sent: name the failure only.
        raise TransportError(f"receiver answered with invalid HTTP ({type(exc).__name__})") from None
    except aiohttp.ClientError as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}") from None
    if 200 <= status < 300:
        return status
    detail = f"receiver answered {status_line(status)}"
    if 300 <= status < 400:
        raise TransportError(detail + " (redirects are not followed)", permanent=True, status_code=status)
    raise TransportError(detail, permanent=is_permanent_status(status), status_code=status,
                         retry_after=retry_after)
