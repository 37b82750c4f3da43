"""Building the long-lived check context (HTTP session with tracing and the address guard)."""

from __future__ import annotations

import aiohttp

from ingest.checks.base import CheckContext
from ingest.checks.http import GuardedResolver, trace_config


def make_check_context(allow_private: bool) -> CheckContext:
    # force_close: every check opens its own connection, as a first-time visitor would,
    # so connect and TLS timings are measured each time.
    connector = aiohttp.TCPConnector(limit=0, force_close=True, use_dns_cache=False,
                                     resolver=GuardedResolver(allow_private))
    session = aiohttp.ClientSession(connector=connector, trace_configs=[trace_config()],
                                    cookie_jar=aiohttp.DummyCookieJar(),
                                    headers={"User-Agent": "Vigil/0.1 (+uptime check)"})
    return CheckContext(http=session, allow_private=allow_private)
