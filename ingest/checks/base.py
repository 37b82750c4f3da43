"""What every check kind shares: its input (MonitorSpec), its context, its output
(CheckResult) and its declaration (Kind). A check never times or stores itself: the
runner does both."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import aiohttp
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict, Field

from vigil.constants import ErrorKind
from vigil.netguard import Policy

if TYPE_CHECKING:
    from ingest.checks.http_lean import LeanHttp


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
    # The lean client for plain HTTP(S) checks; None sends every HTTP check through aiohttp.
    http_lean: LeanHttp | None = None
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
class Timeouts:
    """A kind's bounds and default for a monitor's timeout_ms (per try)."""

    min_ms: int
    default_ms: int
    max_ms: int

    def __post_init__(self) -> None:
        if not 0 < self.min_ms <= self.default_ms <= self.max_ms:
            raise ValueError(f"timeout bounds out of order: {self}")

    def __contains__(self, other: Timeouts) -> bool:
        return self.min_ms <= other.min_ms and other.max_ms <= self.max_ms


# What the monitors table stores (its CHECK on timeout_ms in sql/0001_foundation.sql) and
# what a kind takes unless it says otherwise: a kind may narrow these bounds, not widen them.
STORED_TIMEOUTS = Timeouts(min_ms=100, default_ms=10_000, max_ms=120_000)


@dataclass(frozen=True, slots=True)
class Flag:
    """One `vigil check` flag: the option field it sets and how argparse reads it.
    ``convert`` turns what argparse read into the option's value (ValueError naming the flag)."""

    name: str
    field: str
    help: str
    argparse: dict[str, Any] = field(default_factory=dict)
    convert: Callable[[Any], Any] | None = None


def flag(name: str, option: str, help: str, convert: Callable[[Any], Any] | None = None,
         **argparse: Any) -> Flag:
    return Flag(name, option, help, argparse, convert)


class Destination(NamedTuple):
    """An address a check connects to, and the monitor field that names it (for messages)."""

    host: str
    port: int
    field: str = "target"


def no_destinations(target: str, options: Any) -> list[Destination]:
    return []


@dataclass(frozen=True, slots=True)
class Kind:
    """Everything about one check kind, declared once in its module and read by the runner,
    the API's monitor schemas and `vigil check`. The kind's name is its options' ``kind``."""

    check: Check
    options: type[Options]
    # The target's form: raises ValueError with a message saying the right form.
    parse_target: Callable[[str], Any]
    # URL schemes `vigil check URL` reads as this kind, and the form its help shows.
    schemes: tuple[str, ...]
    usage: str
    flags: tuple[Flag, ...] = ()
    timeouts: Timeouts = STORED_TIMEOUTS
    # Addresses the check will connect to, refused at save time by the address guard.
    destinations: Callable[[str, Any], list[Destination]] = no_destinations
    # For kinds that judge a stored monitor (heartbeat): `vigil check` needs the database
    # and takes the monitor's id from the URL (ValueError naming the URL).
    stored_monitor: Callable[[str], int] | None = None
    # For kinds whose options take time of their own (icmp's echoes and the waits between
    # them): ValueError when they cannot fit in the monitor's timeout_ms.
    within_timeout: Callable[[Any, int], None] | None = None

    @property
    def name(self) -> str:
        return self.options.model_fields["kind"].default
