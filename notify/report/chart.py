"""A small PNG per monitor: hourly p95 latency over the week, hours with down slots shaded
red. matplotlib with the Agg backend (no display needed), one figure at a time."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from notify.report.data import MonitorWeek  # noqa: E402


def monitor_chart(m: MonitorWeek, start: datetime, end: datetime) -> bytes:
    # Figure() rather than pyplot: no global state, safe in a long-running service.
    fig = Figure(figsize=(6.0, 1.5), dpi=100)
    ax = fig.add_subplot()
    hours = [r["hour"] for r in m.hourly if r["p95_us"] is not None]
    p95 = [r["p95_us"] / 1000.0 for r in m.hourly if r["p95_us"] is not None]
    if hours:
        ax.plot(hours, p95, color="#1a73e8", linewidth=1.2)
    for r in m.hourly:
        if r["down_slots"]:
            ax.axvspan(r["hour"], r["hour"] + timedelta(hours=1), color="#d93025", alpha=0.35, linewidth=0)
    ax.set_xlim(start, end)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("p95 ms", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(mdates.DayLocator(tz=start.tzinfo))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a", tz=start.tzinfo))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout(pad=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
