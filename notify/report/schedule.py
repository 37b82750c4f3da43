"""ISO weeks in the report's time zone, and when a week's report is due. Pure functions."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(week: str) -> date:
    """'2026-W47' -> the Monday of that ISO week (ValueError naming the value if malformed)."""
    m = _WEEK.match(week)
    try:
        if not m:
            raise ValueError
        return date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise ValueError(f"week must look like 2026-W47 (an existing ISO week), got {week!r}") from None


def week_name(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str, tz: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) of the ISO week in time zone tz."""
    zone = ZoneInfo(tz)
    monday = parse_week(week)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    return start, datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)


def previous_week(week: str) -> str:
    return week_name(parse_week(week) - timedelta(days=7))


def last_finished_week(now: datetime, tz: str) -> str:
    local = now.astimezone(ZoneInfo(tz)).date()
    return week_name(local - timedelta(days=local.isoweekday() - 1 + 7))


def due_week(now: datetime, weekday: int, hour: int, tz: str) -> str | None:
    """The week whose report is due at ``now``: the previous ISO week, from the configured
    weekday and hour of the current week (local time) until the week ends; else None. A
    notifier that was down at the exact hour still sends later that week."""
    local = now.astimezone(ZoneInfo(tz))
    monday = local.date() - timedelta(days=local.isoweekday() - 1)
    send_at = datetime.combine(monday + timedelta(days=weekday - 1), time(hour), tzinfo=ZoneInfo(tz))
    return week_name(monday - timedelta(days=7)) if local >= send_at else None
