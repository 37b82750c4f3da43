"""Reads from a streaming replica, within a bound on its lag, else from the primary.

`ReadRouter` holds the primary's pool and, when VIGIL_DATABASE_READ_URL is set, a pool on
the replica. Read-only work asks it for a pool: ``await reads.run(fn)`` calls ``fn(pool)``
with the replica's pool while the replica is usable and retries on the primary's when the
replica fails under it; ``async with reads.connection() as conn`` hands out one connection
the same way, without the retry (see docs/replicas.md).

How far behind the replica is: every probe (once a second) reads the primary's WAL
position and keeps it with the time it was read; the replica's replayed position then says
which of those moments it has caught up with, and its lag is the time since the newest such
moment. Unlike ``now() - pg_last_xact_replay_timestamp()``, this does not grow while the
primary is idle (nothing to replay: lag 0), and unlike comparing the replica's received and
replayed positions, it also counts WAL the replica has not received yet. It is an upper
bound, to the probe interval. Nothing is written to the primary for it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")

PROBE_SECONDS = 1.0
# A probe query that takes longer than this counts as a failure: a replica that hangs must
# not hold reads up.
PROBE_TIMEOUT_SECONDS = 2.0
# A request waits this long at most for a replica connection before reading the primary.
REPLICA_CONNECT_SECONDS = 1.0
# WAL positions of the primary are remembered this long: enough to tell a replica further
# behind than any sensible bound from one whose lag is only not known yet.
HISTORY_SECONDS = 300.0

# WAL positions as byte offsets (numeric), which compare and subtract as plain numbers. The
# primary's is where its next record goes: with synchronous_commit off a commit can sit in
# its WAL buffers past the written position, and a replica that replayed only that far
# does not have it yet.
_PRIMARY_LSN = "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn"
_REPLICA_LSN = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn"


@dataclass(frozen=True)
class ReplicaState:
    """What the last probe found. state: off (no read URL), ok, lagging, down, not a
    standby (the read URL reaches a server that is not replaying WAL, e.g. a promoted one),
    unknown (not probed yet, or its lag cannot be told yet)."""

    state: str
    lag_seconds: float | None
    reads_from: str  # "replica" or "primary"


class LagClock:
    """The replica's lag from the primary's WAL positions over time (pure, for tests)."""

    def __init__(self, history_seconds: float = HISTORY_SECONDS) -> None:
        self.history_seconds = history_seconds
        self._seen: deque[tuple[float, int]] = deque()  # (monotonic time, primary WAL position)

    def primary_at(self, when: float, lsn: int) -> None:
        self._seen.append((when, lsn))
        while self._seen and self._seen[0][0] < when - self.history_seconds:
            self._seen.popleft()

    def lag(self, now: float, replayed: int) -> tuple[float | None, bool]:
        """(lag in seconds, exact): the time since the newest remembered primary position
        the replica has replayed; when it has replayed none of them, (time since the oldest,
        False): at least that much, or None with nothing remembered."""
        caught_up = None
        for when, lsn in reversed(self._seen):
            if lsn <= replayed:
                caught_up = when
                break
        if caught_up is not None:
            return (0.0 if caught_up == self._seen[-1][0] else now - caught_up), True
        return (now - self._seen[0][0] if self._seen else None), False


class ReadRouter:
    def __init__(self, primary: AsyncConnectionPool, replica: AsyncConnectionPool | None = None,
                 max_lag_seconds: float = 5.0) -> None:
        self.primary = primary
        self.replica = replica
        self.max_lag_seconds = max_lag_seconds
        self.clock = LagClock(max(HISTORY_SECONDS, 2 * max_lag_seconds))
        self.status = ReplicaState("off", None, "primary") if replica is None else \
            ReplicaState("unknown", None, "primary")

    @property
    def use_replica(self) -> bool:
        return self.status.reads_from == "replica"

    @staticmethod
    async def _fetch(pool: AsyncConnectionPool, query: str) -> tuple:
        async with pool.connection(timeout=PROBE_TIMEOUT_SECONDS) as conn:
            cur = conn.cursor(row_factory=tuple_row)
            await cur.execute(query)
            return await cur.fetchone()

    async def probe(self) -> ReplicaState:
        """Measure the replica's lag now and decide where reads go until the next probe."""
        if self.replica is None:
            return self.status
        primary_up = True
        try:
            (lsn,) = await asyncio.wait_for(self._fetch(self.primary, _PRIMARY_LSN), PROBE_TIMEOUT_SECONDS)
            self.clock.primary_at(time.monotonic(), int(lsn))
        except (psycopg.Error, PoolTimeout, TimeoutError):
            primary_up = False  # its own failures are reported by the health routes
        try:
            in_recovery, replayed = await asyncio.wait_for(self._fetch(self.replica, _REPLICA_LSN),
                                                           PROBE_TIMEOUT_SECONDS)
        except (psycopg.Error, PoolTimeout, TimeoutError) as exc:
            return self._decide(ReplicaState("down", None, "primary"), f"{type(exc).__name__}: {exc}")
        if not in_recovery or replayed is None:
            return self._decide(ReplicaState("not a standby", None, "primary"),
                                "the read URL reaches a server that is not replaying WAL")
        lag, exact = self.clock.lag(time.monotonic(), int(replayed))
        if not primary_up:
            # Reads could not go to the primary anyway: a possibly stale answer beats none.
            return self._decide(ReplicaState("unknown", None, "replica"), "primary unreachable")
        if exact and lag <= self.max_lag_seconds:
            return self._decide(ReplicaState("ok", round(lag, 3), "replica"))
        if not exact and (lag is None or lag <= self.max_lag_seconds):
            return self._decide(ReplicaState("unknown", None, "primary"), "lag not known yet")
        return self._decide(ReplicaState("lagging", round(lag, 3), "primary"),
                            f"lag {lag:.1f} s exceeds VIGIL_READ_MAX_LAG_SECONDS={self.max_lag_seconds:g}")

    def _decide(self, new: ReplicaState, why: str = "") -> ReplicaState:
        old, self.status = self.status, new
        if old.reads_from == "replica" and new.reads_from == "primary":
            log.warning("reads fall back to the primary: replica %s (%s)", new.state, why)
        elif old.reads_from == "primary" and new.reads_from == "replica":
            log.info("reads go to the replica again: %s%s", new.state,
                     f", lag {new.lag_seconds:.1f} s" if new.lag_seconds is not None else f" ({why})")
        return new

    def replica_failed(self, exc: BaseException) -> None:
        """A read on the replica failed: the primary takes reads until a probe finds it well."""
        self._decide(ReplicaState("down", None, "primary"), f"{type(exc).__name__}: {exc}")

    async def watch(self, every: float = PROBE_SECONDS) -> None:
        """Probe forever (the API runs this as a background task)."""
        while True:
            try:
                await self.probe()
            except Exception:  # a bug here must not stop the probing, nor reads
                log.exception("replica probe failed")
            await asyncio.sleep(every)

    async def run(self, read: Callable[[AsyncConnectionPool], Awaitable[T]],
                  not_there_yet: tuple[type[Exception], ...] = ()) -> T:
        """``read(pool)`` on the replica while it is usable; on the primary when it is not,
        or when the replica fails during the read (the read is run again there).
        not_there_yet: errors that may only mean the replica has not replayed a recent
        write (a monitor created a moment ago: not found); the read is run again on the
        primary, and the replica stays in use."""
        if self.use_replica:
            try:
                return await read(self.replica)
            except (psycopg.OperationalError, PoolTimeout) as exc:
                # Connection lost, replica stopped, or a query cancelled by a recovery conflict.
                self.replica_failed(exc)
            except not_there_yet:
                pass
        return await read(self.primary)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """One connection for read-only statements: the replica's while it is usable (a
        replica that gives none within REPLICA_CONNECT_SECONDS sends this and later reads to
        the primary), else the primary's. Errors during the statements are not retried:
        run() does that."""
        async with AsyncExitStack() as stack:
            conn = None
            if self.use_replica:
                try:
                    conn = await stack.enter_async_context(self.replica.connection(timeout=REPLICA_CONNECT_SECONDS))
                except (psycopg.OperationalError, PoolTimeout) as exc:
                    self.replica_failed(exc)
            if conn is None:
                conn = await stack.enter_async_context(self.primary.connection())
            yield conn

    def report(self) -> dict:
        s = self.status
        return {"state": s.state, "lag_seconds": s.lag_seconds, "max_lag_seconds": self.max_lag_seconds,
                "reads_from": s.reads_from}


async def open_reads(primary: AsyncConnectionPool, read_url: str, max_lag_seconds: float,
                     max_size: int = 20) -> ReadRouter:
    """The router for a process whose primary pool is open: with a replica pool when
    read_url is set (opened without waiting: a replica that is down at start is only a
    replica that is down)."""
    from vigil.db import open_pool

    replica = None
    if read_url:
        replica = await open_pool(read_url, min_size=1, max_size=max_size, wait=False, dict_rows=True,
                                  wait_seconds=REPLICA_CONNECT_SECONDS, check=True)
    return ReadRouter(primary, replica, max_lag_seconds)
