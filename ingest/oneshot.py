"""`vigil check`: the worker's own check code, run once from the command line."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from api.monitors.schemas import validate_target
from ingest.checks.base import CheckResult, MonitorSpec
from ingest.context import make_check_context
from ingest.runner import run_check

SCHEME_KINDS = {"http": "http", "https": "http", "tcp": "tcp"}


def spec_from_args(args: argparse.Namespace) -> MonitorSpec:
    scheme = urlsplit(args.url).scheme
    kind = SCHEME_KINDS.get(scheme)
    if kind is None:
        raise ValueError(f"unsupported URL scheme {scheme!r} in {args.url!r} "
                         f"(use one of {', '.join(SCHEME_KINDS)})")
    validate_target(kind, args.url)
    if not 100 <= args.timeout_ms <= 120_000:
        raise ValueError(f"--timeout-ms must be between 100 and 120000, got {args.timeout_ms}")
    headers = {}
    for h in args.header:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header must be NAME:VALUE, got {h!r}")
        headers[name.strip()] = value.strip()
    expectations = {"method": args.method.upper(), "headers": headers, "status_codes": args.status}
    return MonitorSpec(id=0, kind=kind, target=args.url, timeout_ms=args.timeout_ms,
                       expectations=expectations, attempts=max(1, args.attempts))


async def check_once(spec: MonitorSpec, allow_private: bool) -> CheckResult:
    ctx = make_check_context(allow_private)
    try:
        return await run_check(spec, ctx)
    finally:
        await ctx.http.close()
