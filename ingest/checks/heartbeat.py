"""Heartbeat (push) check: nothing is contacted; the monitor is up while the last ping
received through the API (heartbeat_pings) is at most interval + grace old. A monitor
never pinged is up during its first interval + grace after creation, then down.

The checks of one batch run concurrently; their lookups are gathered into one query
(``PingReader``) rather than one query per monitor."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, Literal

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import Field

from ingest.checks.base import CheckContext, CheckResult, Kind, MonitorSpec, Options, flag
from vigil.constants import ErrorKind
from vigil.queries import sql


class HeartbeatOptions(Options):
    kind: Literal["heartbeat"] = "heartbeat"
    grace_s: int = Field(default=60, ge=0, le=86_400,
                         description="how late a ping may be beyond the interval")


class PingReader:
    """Batches heartbeat_state lookups made in the same event-loop turn into one query."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool
        self.waiting: dict[int, list[asyncio.Future]] = {}
        self.flush: asyncio.Task | None = None

    async def state(self, monitor_id: int) -> dict[str, Any] | None:
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(monitor_id, []).append(future)
        if self.flush is None:
            self.flush = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the rest of the batch queue its lookups
        waiting, self.waiting, self.flush = self.waiting, {}, None
        try:
            async with self.pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(sql("heartbeat_state"), {"ids": list(waiting)})
                rows = {r["id"]: r for r in await cur.fetchall()}
        except Exception as exc:
            outcome: Any = exc
        else:
            outcome = None
        for monitor_id, futures in waiting.items():
            for f in futures:
                if f.done():
                    continue
                if outcome is not None:
                    f.set_exception(outcome)
                else:
                    f.set_result(rows.get(monitor_id))


def verdict(state: dict[str, Any], grace_s: int) -> CheckResult:
    """Pure decision from one heartbeat_state row."""
    allowed = timedelta(seconds=state["interval_s"] + grace_s)
    now: datetime = state["now"]
    last = state["last_ping_at"]
    if last is None:
        if now - state["created_at"] <= allowed:
            return CheckResult(up=True, detail={"last_ping_at": None})
        return CheckResult.failure(ErrorKind.heartbeat_missed,
                                   f"no ping received since the monitor was created ({state['created_at']:%Y-%m-%d %H:%M:%S}Z)")
    age = (now - last).total_seconds()
    detail = {"last_ping_at": last.isoformat(), "age_s": round(age, 1)}
    if now - last > allowed:
        return CheckResult.failure(ErrorKind.heartbeat_missed,
                                   f"last ping {age:.0f} s ago; expected within {allowed.total_seconds():.0f} s",
                                   detail=detail)
    return CheckResult(up=True, detail=detail)


async def check(spec: MonitorSpec, opts: HeartbeatOptions, ctx: CheckContext) -> CheckResult:
    if ctx.pool is None:
        return CheckResult.failure(ErrorKind.internal, "heartbeat checks need the database (VIGIL_DATABASE_URL)")
    reader = ctx.extras.get("ping_reader")
    if reader is None:
        reader = ctx.extras["ping_reader"] = PingReader(ctx.pool)
    state = await reader.state(spec.id)
    if state is None:
        return CheckResult.failure(ErrorKind.internal, f"monitor {spec.id} does not exist")
    return verdict(state, opts.grace_s)


def parse_target(target: str) -> str:
    if not target.startswith("heartbeat://"):
        raise ValueError("a heartbeat monitor's target must start with heartbeat:// (e.g. heartbeat://nightly-backup)")
    return target.removeprefix("heartbeat://")


def stored_monitor(url: str) -> int:
    """`vigil check heartbeat://42` judges monitor 42 as stored (its pings, its interval)."""
    label = parse_target(url)
    if not label.isdigit():
        raise ValueError(f"a heartbeat URL for `vigil check` is heartbeat://MONITOR_ID, got {url!r}")
    return int(label)


KIND = Kind(check=check, options=HeartbeatOptions, parse_target=parse_target, schemes=("heartbeat",),
            usage="heartbeat://MONITOR_ID", stored_monitor=stored_monitor,
            flags=(flag("--grace-s", "grace_s", "allowed lateness beyond the interval", type=int),))
