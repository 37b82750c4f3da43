"""What every transport shares: one signature, failure as an exception that says whether a
retry can help, and the context a delivery worker hands in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from notify.message import Delivery
from vigil.settings import Settings


class TransportError(Exception):
    """A send failed. permanent: the same request can never succeed (dead-letter at once);
    retry_after: the receiver asked us to wait this many seconds."""

    def __init__(self, message: str, *, permanent: bool = False, status_code: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status_code = status_code
        self.retry_after = retry_after


@dataclass(slots=True)
class TransportContext:
    settings: Settings
    http: aiohttp.ClientSession
    pool: Any = None  # the database pool, for transports that render from data (the weekly report)


# A transport sends one notification and returns the receiver's status code (None for SMTP).
Transport = Callable[[Delivery, TransportContext], Awaitable[int | None]]
