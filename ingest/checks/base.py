"""What every check kind shares: its input (MonitorSpec), its context and its output
(CheckResult). A check never times or stores itself: the runner does both."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

import aiohttp
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict, Field

from vigil.constants import ErrorKind
from vigil.netguard import Policy


@dataclass(slots=True, frozen=True)
class MonitorSpec:
    """The part of a monitor a worker needs; travels inside the arq job."""

    id: int
    kind: str
    target: str
    timeout_ms: int
    expectations: dict[str, Any] = field(default_factory=dict)
    attempts: int = 1
    # The slot's time budget for all attempts together; 0 = unknown (attempts * timeout).
    interval_s: int = 0

    def payload(self) -> SpecTuple:
        """The spec as a job carries it: its fields in order; MonitorSpec(*payload) rebuilds it."""
        return tuple(getattr(self, name) for name in _SPEC_FIELDS)


# A job's payload per monitor: MonitorSpec's fields in order (tuples keep the arq job small).
SpecTuple = tuple[int, str, str, int, dict, int, int]
_SPEC_FIELDS = tuple(f.name for f in fields(MonitorSpec))


@dataclass(slots=True)
class Timings:
    """Phase durations in microseconds; 0 where a phase did not happen."""

    dns_us: int = 0
    connect_us: int = 0
    tls_us: int = 0
    ttfb_us: int = 0
    total_us: int = 0


@dataclass(slots=True)
class CheckResult:
    up: bool
    error_kind: ErrorKind = ErrorKind.none
    error: str = ""
    status_code: int = 0
    timings: Timings = field(default_factory=Timings)
    detail: dict[str, Any] = field(default_factory=dict)
    attempts: int = 1

    @classmethod
    def failure(cls, kind: ErrorKind, message: str, **kw: Any) -> CheckResult:
        return cls(up=False, error_kind=kind, error=message, **kw)

    def as_dict(self) -> dict[str, Any]:
        return {
            "up": self.up,
            "error_kind": None if self.error_kind == ErrorKind.none else self.error_kind.name,
            "error": self.error or None,
            "status_code": self.status_code or None,
            "attempts": self.attempts,
            "timings_ms": {k.removesuffix("_us"): round(getattr(self.timings, k) / 1000, 3)
                           for k in ("dns_us", "connect_us", "tls_us", "ttfb_us", "total_us")},
            **({"detail": self.detail} if self.detail else {}),
        }


@dataclass(slots=True)
class CheckContext:
    """Long-lived things a check may use, owned by the runner (one per worker process)."""

    http: aiohttp.ClientSession
    allow_private: bool | Policy  # what the address guard lets through (vigil.netguard)
    # The database, for kinds that read what the API stored (heartbeat pings); None in
    # `vigil check` without a database.
    pool: AsyncConnectionPool | None = None
    # First retry waits about this long; each further one twice as long (with jitter).
    retry_base_s: float = 0.5
    # Trust for verified TLS (HTTPS and tls checks); None = the system's CA store. Lets a
    # deployment (or a test) trust a private CA.
    tls_context: ssl.SSLContext | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class Options(BaseModel):
    """A kind's expectations (how the check is made and what counts as up), stored as the
    monitor's `expectations` JSON. Each kind extends it in its own module."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int = Field(default=1, ge=1, le=10, description="tries inside a slot before recording down")


class Check(Protocol):
    """The one signature every kind shares. ``options`` is the kind's own Options subclass,
    validated once by the runner. Failures are returned as data, never raised."""

    async def __call__(self, spec: MonitorSpec, options: Any, ctx: CheckContext) -> CheckResult: ...


@dataclass(frozen=True, slots=True)
class Kind:
    check: Check
    options: type[Options]
