"""Building the long-lived check context (the lean HTTP client, the aiohttp session with
tracing, both behind the address guard)."""

from __future__ import annotations

import ssl

from psycopg_pool import AsyncConnectionPool

from ingest.checks.base import CheckContext
from ingest.checks.http_lean import LeanHttp
from ingest.checks.http_transport import make_session
from vigil.netguard import Policy, policy_of


def make_check_context(allow_private: bool | Policy, pool: AsyncConnectionPool | None = None,
                       retry_base_s: float = 0.5, tls_context: ssl.SSLContext | None = None,
                       lean_http: bool = True) -> CheckContext:
    """``lean_http=False`` sends every HTTP check through aiohttp."""
    return CheckContext(http=make_session(allow_private), allow_private=policy_of(allow_private), pool=pool,
                        retry_base_s=retry_base_s, tls_context=tls_context,
                        http_lean=LeanHttp(allow_private, tls_context) if lean_http else None)
