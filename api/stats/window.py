"""The time window of a stats query and the resolution of a series, as pure functions.

A window is either ``window=1h|24h|7d|30d|90d`` ending now, or ``from``/``to`` (ISO 8601; a
time without a zone is UTC; ``to`` defaults to now). Bad input raises BadWindow naming the
parameter, which the API answers with 400."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PRESETS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7),
           "30d": timedelta(days=30), "90d": timedelta(days=90)}
DEFAULT_PRESET = "24h"
MAX_WINDOW = timedelta(days=90)

# Series resolutions. "raw" is one point per slot (the monitor's interval); it is refused for
# windows longer than RAW_MAX_WINDOW, where it would return tens of thousands of points.
RESOLUTIONS = {"1h": timedelta(hours=1), "1d": timedelta(days=1)}
RAW_MAX_WINDOW = timedelta(days=2)
# "auto" keeps a chart between ~60 and ~720 points: raw up to 6 h, hourly up to 30 days.
AUTO_RAW_UP_TO = timedelta(hours=6)
AUTO_HOURLY_UP_TO = timedelta(days=30)


_PLUS_AS_SPACE = re.compile(r" (\d\d:?\d\d)$")


class BadWindow(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def _parse_time(field: str, text: str) -> datetime:
    try:
        # A "+" in a query string arrives as a space: "...T10:00:00 02:00" means +02:00.
        t = datetime.fromisoformat(_PLUS_AS_SPACE.sub(r"+\1", text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise BadWindow(field, f"invalid value for {field}: {text!r} is not an ISO 8601 time") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def parse_window(window: str | None, start: str | None, end: str | None,
                 now: datetime | None = None) -> Window:
    now = now or datetime.now(UTC)
    if window is not None and (start is not None or end is not None):
        raise BadWindow("window", "invalid value for window: give either window or from/to, not both")
    if start is None:
        if end is not None:
            raise BadWindow("from", "invalid value for from: required when to is given")
        preset = DEFAULT_PRESET if window is None else window
        if preset not in PRESETS:
            raise BadWindow("window", f"invalid value for window: {preset!r} is not one of "
                            + ", ".join(PRESETS))
        return Window(now - PRESETS[preset], now)
    w = Window(_parse_time("from", start), _parse_time("to", end) if end is not None else now)
    if w.start >= w.end:
        raise BadWindow("from", "invalid value for from: it must be before to")
    if w.length > MAX_WINDOW:
        raise BadWindow("to", f"invalid value for to: a window is at most {MAX_WINDOW.days} days")
    return w


def resolve_resolution(resolution: str, window: Window, interval_s: int) -> tuple[str, timedelta]:
    """(name, bucket width) of a series; raw buckets are one monitor interval wide."""
    if resolution == "auto":
        if window.length <= AUTO_RAW_UP_TO:
            resolution = "raw"
        else:
            resolution = "1h" if window.length <= AUTO_HOURLY_UP_TO else "1d"
    if resolution == "raw":
        if window.length > RAW_MAX_WINDOW:
            raise BadWindow("resolution", "invalid value for resolution: raw allows windows up to "
                            f"{int(RAW_MAX_WINDOW.total_seconds() // 3600)} h; use 1h or 1d")
        return "raw", timedelta(seconds=interval_s)
    if resolution not in RESOLUTIONS:
        raise BadWindow("resolution", f"invalid value for resolution: {resolution!r} is not one of "
                        "auto, raw, " + ", ".join(RESOLUTIONS))
    return resolution, RESOLUTIONS[resolution]
