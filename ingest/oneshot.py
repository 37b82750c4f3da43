"""`vigil check`: the worker's own check code, run once from the command line.

Every kind is given as a URL (its scheme names the kind) and the monitor's expectations
as flags; a flag that does not apply to the kind, or a bad value, is refused naming the
flag. Heavy imports happen inside the functions so other `vigil` commands start fast."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from vigil.netguard import Policy

SCHEME_KINDS = {"http": "http", "https": "http", "tcp": "tcp", "dns": "dns", "tls": "tls",
                "heartbeat": "heartbeat"}


def _json_value(text: str) -> Any:
    """--json-equals takes JSON (42, true, "ok", null); anything else is taken as a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


# (flag, expectations field, argparse options); the help names the kinds it applies to.
FLAGS: list[tuple[str, str, dict[str, Any]]] = [
    ("--method", "method", {"help": "http: request method", "type": str.upper}),
    ("--header", "headers", {"action": "append", "metavar": "NAME:VALUE", "help": "http: request header (repeatable)"}),
    ("--body", "body", {"help": "http: request body"}),
    ("--status", "status_codes", {"action": "append", "type": int, "metavar": "CODE",
                                  "help": "http: accepted status (repeatable; default 2xx/3xx)"}),
    ("--keyword", "keyword", {"help": "http: text the body must contain"}),
    ("--keyword-absent", "keyword_absent", {"action": "store_true", "default": None,
                                            "help": "http: the keyword must NOT be in the body"}),
    ("--json-path", "json_path", {"help": "http: dotted path into a JSON body, e.g. $.checks.0.status"}),
    ("--json-equals", "json_equals", {"type": _json_value, "metavar": "JSON",
                                      "help": "http: the value at --json-path (JSON, or a plain string)"}),
    ("--max-redirects", "max_redirects", {"type": int, "help": "http: redirects to follow (default 10)"}),
    ("--max-body-bytes", "max_body_bytes", {"type": int, "help": "http: read at most this much body"}),
    ("--insecure", "tls_skip_verify", {"action": "store_true", "default": None,
                                       "help": "http, tls: do not verify the certificate chain and name"}),
    ("--expect", "expected", {"action": "append", "metavar": "VALUE",
                              "help": "dns: a value the answer must contain (repeatable)"}),
    ("--resolver", "resolver", {"help": "dns: IP[:port] of the resolver to ask"}),
    ("--cert-min-days", "cert_min_days", {"type": int, "help": "tls: down when fewer days are left (default 14)"}),
    ("--grace-s", "grace_s", {"type": int, "help": "heartbeat: allowed lateness beyond the interval"}),
]
FIELD_FLAGS = {field: flag for flag, field, _ in FLAGS} | {"attempts": "--attempts"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="https://..., tcp://host:port, dns://name?type=A, tls://host[:port], "
                                    "heartbeat://MONITOR_ID")
    parser.add_argument("--timeout-ms", type=int, default=10_000)
    parser.add_argument("--attempts", type=int, default=1, help="tries before recording down")
    parser.add_argument("--allow-private", action="store_true",
                        help="allow private/loopback targets (same as VIGIL_ALLOW_PRIVATE_TARGETS=1)")
    for flag, field, options in FLAGS:
        parser.add_argument(flag, dest=field, **options)


def _headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for h in values:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header must be NAME:VALUE, got {h!r}")
        headers[name.strip()] = value.strip()
    return headers


def _options_error(exc: Any, kind: str) -> ValueError:
    """The first pydantic error as a message naming the flag."""
    error = exc.errors()[0]
    field = next((str(p) for p in error["loc"] if isinstance(p, str)), "")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return ValueError(f"{FIELD_FLAGS.get(field, field)} does not apply to {kind} checks")
    if not field:  # a rule across fields: name them as flags
        return ValueError(re.sub(r"\b[a-z_]+\b", lambda m: FIELD_FLAGS.get(m[0], m[0]), message))
    return ValueError(f"{FIELD_FLAGS.get(field, field)}: {message}")


def spec_from_args(args: argparse.Namespace):
    """The MonitorSpec the flags describe; ValueError naming the bad argument."""
    from pydantic import ValidationError

    from api.monitors.schemas import validate_target
    from ingest.checks import KINDS
    from ingest.checks.base import MonitorSpec

    scheme = urlsplit(args.url).scheme
    kind = SCHEME_KINDS.get(scheme)
    if kind is None:
        raise ValueError(f"unsupported URL scheme {scheme!r} in {args.url!r} "
                         f"(use one of {', '.join(SCHEME_KINDS)})")
    validate_target(kind, args.url)
    if not 100 <= args.timeout_ms <= 120_000:
        raise ValueError(f"--timeout-ms must be between 100 and 120000, got {args.timeout_ms}")
    monitor_id = 0
    if kind == "heartbeat":
        name = args.url.removeprefix("heartbeat://")
        if not name.isdigit():
            raise ValueError(f"a heartbeat URL for `vigil check` is heartbeat://MONITOR_ID, got {args.url!r}")
        monitor_id = int(name)
    expectations = {field: getattr(args, field) for _, field, _ in FLAGS if getattr(args, field) is not None}
    if "headers" in expectations:
        expectations["headers"] = _headers(expectations["headers"])
    expectations["attempts"] = args.attempts
    try:
        KINDS[kind].options.model_validate(expectations)
    except ValidationError as exc:
        raise _options_error(exc, kind) from None
    return MonitorSpec(id=monitor_id, kind=kind, target=args.url, timeout_ms=args.timeout_ms,
                       expectations=expectations, attempts=args.attempts)


async def _heartbeat_pool(database_url: str | None):
    """The database a heartbeat check reads, or the failure to report instead."""
    import psycopg

    from ingest.checks.base import CheckResult
    from vigil.constants import ErrorKind
    from vigil.db import open_pool

    if not database_url:
        return None, CheckResult.failure(ErrorKind.internal, "heartbeat checks need VIGIL_DATABASE_URL")
    try:  # one plain connection first: a refused database fails now, not after the pool's retries
        conn = await psycopg.AsyncConnection.connect(database_url, connect_timeout=5)
        await conn.close()
        return await asyncio.wait_for(open_pool(database_url, max_size=1), 10), None
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, CheckResult.failure(ErrorKind.internal, f"cannot reach the database: {reason}")


async def check_once(spec, allow_private: bool | Policy, database_url: str | None = None):
    from ingest.context import make_check_context
    from ingest.runner import run_check

    pool = None
    if spec.kind == "heartbeat":
        pool, failure = await _heartbeat_pool(database_url)
        if failure:
            return failure
    ctx = make_check_context(allow_private, pool=pool)
    try:
        return await run_check(spec, ctx)
    finally:
        await ctx.http.close()
        if pool is not None:
            await pool.close()
