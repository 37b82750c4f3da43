"""The weekly report as plain text and as HTML (charts referenced through ``img_src``, a
Content-ID in the email, a data: URI in a preview file)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from notify.report.data import MonitorWeek, Report


def pct(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}%"


def fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def change(now: float | None, before: float | None) -> str:
    if now is None or before is None or before == 0:
        return "n/a"
    return f"{100.0 * (now - before) / before:+.1f}%"


def duration(seconds: int) -> str:
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m" if h else (f"{m}m {s:02d}s" if m else f"{s}s")


def subject(report: Report) -> str:
    missed = sum(1 for m in report.monitors if m.slo_met is False)
    verdict = f"{missed} of {len(report.monitors)} monitors below SLO" if missed else "all monitors within SLO"
    return f"Vigil weekly SLO report {report.week} for {report.account}: {verdict}"


def _period(report: Report) -> str:
    last = report.end.date().fromordinal(report.end.date().toordinal() - 1)
    return f"{report.start.date()} to {last} ({report.start.tzinfo})"


def _slo_line(m: MonitorWeek) -> str:
    verdict = {True: "met", False: "MISSED", None: "no data"}[m.slo_met]
    return f"uptime {pct(m.uptime)} vs SLO {m.slo_target:g}% ({verdict}), error budget left {pct(m.budget_left, 1)}"


def text(report: Report) -> str:
    lines = [subject(report), f"Week {report.week}: {_period(report)}", ""]
    if not report.monitors:
        lines.append("This account has no monitors.")
    for m in report.monitors:
        lines += [
            f"{m.name} ({m.target})",
            f"  {_slo_line(m)}",
            f"  p95 {fmt_ms(m.p95_ms)} ({change(m.p95_ms, m.prev_p95_ms)} vs last week), "
            f"p99 {fmt_ms(m.p99_ms)} ({change(m.p99_ms, m.prev_p99_ms)})",
            f"  incidents {m.incidents}, downtime {duration(m.downtime_s)}, missed slots {m.missed_slots}, "
            f"excluded slots {m.excluded_slots} (maintenance)",
            "",
        ]
    return "\n".join(lines)


_TD = "style='padding:4px 8px;border-bottom:1px solid #ddd'"


def html(report: Report, img_src: Callable[[MonitorWeek], str]) -> str:
    parts = [f"<html><body style='font-family:sans-serif;color:#202124'>"
             f"<h2>{escape(subject(report))}</h2><p>Week {escape(report.week)}: {escape(_period(report))}</p>"]
    if not report.monitors:
        parts.append("<p>This account has no monitors.</p>")
    for m in report.monitors:
        color = {True: "#188038", False: "#d93025", None: "#5f6368"}[m.slo_met]
        cells = [("Uptime", f"<b style='color:{color}'>{pct(m.uptime)}</b> (SLO {m.slo_target:g}%)"),
                 ("Error budget left", pct(m.budget_left, 1)),
                 ("p95", f"{fmt_ms(m.p95_ms)} ({change(m.p95_ms, m.prev_p95_ms)})"),
                 ("p99", f"{fmt_ms(m.p99_ms)} ({change(m.p99_ms, m.prev_p99_ms)})"),
                 ("Incidents", str(m.incidents)), ("Downtime", duration(m.downtime_s)),
                 ("Excluded slots", f"{m.excluded_slots} (maintenance)")]
        row = "".join(f"<td {_TD}><small>{k}</small><br>{v}</td>" for k, v in cells)
        parts.append(f"<h3 style='margin-bottom:2px'>{escape(m.name)}</h3>"
                     f"<div style='color:#5f6368'>{escape(m.target)}</div>"
                     f"<table style='border-collapse:collapse'><tr>{row}</tr></table>"
                     f"<img src='{escape(img_src(m))}' alt='hourly p95 latency of {escape(m.name)}' "
                     f"width='600' height='150'>")
    parts.append("<p style='color:#5f6368'><small>Uptime counts up and down slots (a slot is down when "
                 "enough regions agree); missed slots and slots inside maintenance windows are excluded. Sent by Vigil.</small></p></body></html>")
    return "".join(parts)
