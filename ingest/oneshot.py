"""`vigil check`: the worker's own check code, run once from the command line.

Every kind is given as a URL (its scheme names the kind) and the monitor's expectations
as flags; a flag that does not apply to the kind, or a bad value, is refused naming the
flag. Heavy imports happen inside the functions so other `vigil` commands start fast."""

from __future__ import annotations

import argparse
import asyncio
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from vigil.netguard import Policy

# Flags of the options every kind takes (base.Options), beside each kind's own.
COMMON_FLAGS = {"attempts": "--attempts"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The URL, the flags every kind takes, and each kind's own flags."""
    from ingest.checks import KINDS
    from ingest.checks.registry import by_kind

    parser.add_argument("url", help=", ".join(k.usage for k in KINDS.values()))
    bounds = by_kind((k.name, f"{k.timeouts.min_ms}-{k.timeouts.max_ms}, default {k.timeouts.default_ms}")
                     for k in KINDS.values())
    parser.add_argument("--timeout-ms", type=int, help=f"time per try, in ms ({bounds})")
    parser.add_argument("--attempts", type=int, default=1, help="tries before recording down")
    parser.add_argument("--allow-private", action="store_true",
                        help="allow private/loopback targets (same as VIGIL_ALLOW_PRIVATE_TARGETS=1)")
    for f in KINDS.cli_flags():
        parser.add_argument(f.name, dest=f.field, help=f.help, **f.argparse)


def _flag(field: str) -> str:
    from ingest.checks import KINDS

    return KINDS.flag_of(field) or COMMON_FLAGS.get(field, field)


def _options_error(exc: Any, kind: str) -> ValueError:
    """The first pydantic error as a message naming the flag."""
    error = exc.errors()[0]
    field = next((str(p) for p in error["loc"] if isinstance(p, str)), "")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return ValueError(f"{_flag(field)} does not apply to {kind} checks")
    if not field:  # a rule across fields: name them as flags
        return ValueError(re.sub(r"\b[a-z_]+\b", lambda m: _flag(m[0]), message))
    return ValueError(f"{_flag(field)}: {message}")


def _expectations(args: argparse.Namespace, kind) -> dict[str, Any]:
    """The options the flags give; a kind's own flags converted as it says."""
    from ingest.checks import KINDS

    expectations = {f.field: getattr(args, f.field) for f in KINDS.cli_flags() if getattr(args, f.field) is not None}
    for f in kind.flags:
        if f.convert and f.field in expectations:
            expectations[f.field] = f.convert(expectations[f.field])
    expectations["attempts"] = args.attempts
    return expectations


def spec_from_args(args: argparse.Namespace):
    """The MonitorSpec the flags describe; ValueError naming the bad argument."""
    from pydantic import ValidationError

    from ingest.checks import KINDS
    from ingest.checks.base import MonitorSpec

    scheme = urlsplit(args.url).scheme
    kind = KINDS.of_scheme(scheme)
    if kind is None:
        raise ValueError(f"unsupported URL scheme {scheme!r} in {args.url!r} "
                         f"(use one of {', '.join(KINDS.schemes())})")
    kind.parse_target(args.url)
    timeouts = kind.timeouts
    timeout_ms = timeouts.default_ms if args.timeout_ms is None else args.timeout_ms
    if not timeouts.min_ms <= timeout_ms <= timeouts.max_ms:
        raise ValueError(f"--timeout-ms must be between {timeouts.min_ms} and {timeouts.max_ms} "
                         f"for {kind.name} checks, got {timeout_ms}")
    monitor_id = kind.stored_monitor(args.url) if kind.stored_monitor else 0
    expectations = _expectations(args, kind)
    try:
        kind.options.model_validate(expectations)
    except ValidationError as exc:
        raise _options_error(exc, kind.name) from None
    return MonitorSpec(id=monitor_id, kind=kind.name, target=args.url, timeout_ms=timeout_ms,
                       expectations=expectations, attempts=args.attempts)


async def _stored_monitors_pool(kind: str, database_url: str | None):
    """The database a check of a stored monitor reads, or the failure to report instead."""
    import psycopg

    from ingest.checks.base import CheckResult
    from vigil.constants import ErrorKind
    from vigil.db import open_pool

    if not database_url:
        return None, CheckResult.failure(ErrorKind.internal, f"{kind} checks need VIGIL_DATABASE_URL")
    try:  # one plain connection first: a refused database fails now, not after the pool's retries
        conn = await psycopg.AsyncConnection.connect(database_url, connect_timeout=5)
        await conn.close()
        return await asyncio.wait_for(open_pool(database_url, max_size=1), 10), None
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, CheckResult.failure(ErrorKind.internal, f"cannot reach the database: {reason}")


async def check_once(spec, allow_private: bool | Policy, database_url: str | None = None):
    from ingest.checks import KINDS
    from ingest.context import make_check_context
    from ingest.runner import run_check

    pool = None
    if KINDS[spec.kind].stored_monitor:
        pool, failure = await _stored_monitors_pool(spec.kind, database_url)
        if failure:
            return failure
    ctx = make_check_context(allow_private, pool=pool)
    try:
        return await run_check(spec, ctx)
    finally:
        await ctx.http.close()
        if pool is not None:
            await pool.close()
