"""Grafana's query interpolation for its Postgres datasource, re-implemented for tests so
every dashboard query can run against the test database as Grafana would send it.

Two stages, as in Grafana: the frontend's template service replaces variables ($var,
${var}, [[var]]) and the built-ins $__interval / $__interval_ms, leaving unknown names
alone; then the backend's macro engine replaces $__name(args) in one left-to-right pass
(args split on commas, a macro's argument list ends at the first ')'). With the
datasource's `timescaledb` option on, $__timeGroup becomes time_bucket('<seconds>s', col)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}")
MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^)]*)\)")

# Grafana's roundInterval: (upper bound in ms, interval chosen in ms).
_ROUNDING = [(15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
             (3500, 2000), (7500, 5000), (12500, 10_000), (17500, 15_000), (25000, 20_000),
             (45000, 30_000), (90000, 60_000), (180_000, 120_000), (450_000, 300_000),
             (1_050_000, 600_000), (2_100_000, 900_000), (3_600_000, 1_800_000),
             (5_400_000, 3_600_000), (9_000_000, 7_200_000), (16_200_000, 10_800_000),
             (32_400_000, 21_600_000), (86_400_000, 43_200_000), (604_800_000, 86_400_000),
             (1_814_400_000, 604_800_000), (3_628_800_000, 2_592_000_000)]
_UNITS = [("y", 31_536_000), ("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]


def panel_interval(start: datetime, end: datetime, min_interval: str | None, max_points: int = 500) -> timedelta:
    """$__interval: the range over the panel's data points, rounded as Grafana rounds it,
    never below the panel's minimum interval."""
    raw_ms = (end - start).total_seconds() * 1000 / max_points
    ms = next((chosen for bound, chosen in _ROUNDING if raw_ms < bound), 31_536_000_000)
    if min_interval:
        ms = max(ms, parse_interval(min_interval).total_seconds() * 1000)
    return timedelta(milliseconds=ms)


def parse_interval(text: str) -> timedelta:
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", text.strip().strip("'"))
    if not m:
        raise ValueError(f"not a Grafana interval: {text!r}")
    n, unit = int(m[1]), m[2]
    return timedelta(milliseconds=n) if unit == "ms" else timedelta(seconds=n * dict(_UNITS)[unit])


def format_interval(td: timedelta) -> str:
    """Grafana's secondsToHms: the largest whole unit, e.g. 3600 s -> '1h'."""
    seconds = td.total_seconds()
    for unit, size in _UNITS:
        if unit == "w":
            continue  # Grafana writes weeks as days
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms"


def rfc3339nano(t: datetime) -> str:
    """Go's time.RFC3339Nano in UTC: fraction without trailing zeros, 'Z'."""
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{t.microsecond:06d}".rstrip("0")
    return f"{base}.{frac}Z" if frac else f"{base}Z"


def replace_variables(sql: str, variables: dict[str, str], interval: timedelta) -> str:
    values = {**variables, "__interval": format_interval(interval),
              "__interval_ms": str(int(interval.total_seconds() * 1000))}

    def sub(m: re.Match) -> str:
        name = m[1] or m[2] or m[4]
        return values.get(name, m[0])
    return VARIABLE.sub(sub, sql)


def expand_macros(sql: str, start: datetime, end: datetime, timescaledb: bool = True) -> str:
    def evaluate(name: str, args: list[str]) -> str:
        if name == "__time":
            return f'{args[0]} AS "time"'
        if name == "__timeEpoch":
            return f'extract(epoch from {args[0]}) as "time"'
        if name == "__timeFilter":
            return f"{args[0]} BETWEEN '{rfc3339nano(start)}' AND '{rfc3339nano(end)}'"
        if name == "__timeFrom":
            return f"'{rfc3339nano(start)}'"
        if name == "__timeTo":
            return f"'{rfc3339nano(end)}'"
        if name in ("__timeGroup", "__timeGroupAlias"):
            if len(args) < 2:
                raise ValueError(f"macro {name} needs a time column and an interval")
            seconds = parse_interval(args[1]).total_seconds()
            group = (f"time_bucket('{seconds:.3f}s',{args[0]})" if timescaledb
                     else f"floor(extract(epoch from {args[0]})/{seconds:g})*{seconds:g}")
            return group + (' AS "time"' if name == "__timeGroupAlias" else "")
        if name == "__unixEpochFilter":
            return f"{args[0]} >= {int(start.timestamp())} AND {args[0]} <= {int(end.timestamp())}"
        raise ValueError(f"unknown macro {name!r}")

    def sub(m: re.Match) -> str:
        name = m[1]
        # Grafana before 5.3 let $__timeGroup(...) carry the alias; it still adds it when
        # the first such call in the query is directly followed by a comma.
        if name == "__timeGroup":
            at = sql.find(m[0]) + len(m[0])
            if at < len(sql) and sql[at] == ",":
                name = "__timeGroupAlias"
        return evaluate(name, [a.strip() for a in m[2].split(",")])
    return MACRO.sub(sub, sql)


def interpolate(sql: str, start: datetime, end: datetime, variables: dict[str, str],
                min_interval: str | None = None) -> str:
    """A panel query as Grafana's Postgres datasource runs it."""
    interval = panel_interval(start, end, min_interval)
    return expand_macros(replace_variables(sql, variables, interval), start, end)
