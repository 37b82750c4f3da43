"""A page snapshot (api/status_pages/snapshot.py) as HTML, JSON or an Atom feed, and badges
as SVG, through the app's Jinja templates (api/status_pages/templates/, autoescaped).

The page carries its stylesheet inline and allows exactly that stylesheet by its hash in
its content security policy (PAGE_POLICY); it runs no script and loads nothing else."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.serialization import encode_json
from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS = (TEMPLATES / "status.css").read_text()
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
PAGE_POLICY = (f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self'; "
               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'").encode()

STATUS_TEXT = {"up": "Operational", "down": "Down", "missed": "Not checked", "unknown": "No data",
               "maintenance": "Maintenance"}
OVERALL_TEXT = {"operational": "All systems operational", "partial_outage": "Partial outage",
                "major_outage": "Major outage", "maintenance": "Maintenance in progress",
                "unknown": "No current data"}
UPDATE_TEXT = {"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring",
               "resolved": "Resolved"}
CHART_STEP, CHART_H = 10, 100


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def percent(value: float | None) -> str:
    if value is None:
        return "no data"
    return "100 %" if value >= 100 else f"{min(value, 99.99):.2f} %"


@lru_cache(maxsize=4096)
def _bar_look(pct: float | None, down_s: int) -> tuple[str, str]:
    """A bar's opening tag and the text after its date; most days share one (a whole day up)."""
    if pct is None:
        return "<li class=none>", "no data"
    level = "<li>" if pct >= 100 else "<li class=degraded>" if pct >= 99 else "<li class=down>"
    return level, f"{percent(pct)} up, {duration(down_s)} down"


def bars(days: list[dict[str, Any]]) -> Markup:
    """The daily bars of a monitor as list items, built here rather than in the template:
    1,800 bars through Jinja cost several milliseconds of attribute lookups and escaping.
    They are most of the page, so they are written short: a day up is a bare item (the
    stylesheet's default), and each item ends where the next begins (HTML needs no </li>).
    Nothing in them comes from a user (dates and figures), so nothing needs escaping."""
    items = []
    for day in days:
        tag, text = _bar_look(day["uptime_pct"], day["down_s"])
        items.append(f'{tag}<span>{day["date"]}: {text}</span>')
    return Markup("".join(items))


def _chart(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """SVG polyline points of the hourly median and p95 in whole units of a box CHART_STEP
    wide per hour and CHART_H high (the chart stretches it to its size): integers keep the
    page small, and a hundredth of the height is finer than the chart shows."""
    values = [p[k] for p in points for k in ("p50_ms", "p95_ms") if p[k] is not None]
    if not values:
        return None
    top = max(values) * 1.1 or 1.0

    def line(key: str) -> str:
        return " ".join(f"{i * CHART_STEP},{round(CHART_H - p[key] / top * CHART_H)}"
                        for i, p in enumerate(points) if p[key] is not None)
    p50 = [p["p50_ms"] for p in points if p["p50_ms"] is not None]
    p95 = [p["p95_ms"] for p in points if p["p95_ms"] is not None]
    return {"p50": line("p50_ms"), "p95": line("p95_ms"), "top_ms": round(top),
            "width": max(len(points) - 1, 1) * CHART_STEP,
            "summary": f"median {sorted(p50)[len(p50) // 2]:.0f} ms, highest hourly p95 {max(p95):.0f} ms"
                       if p50 and p95 else "no latency data"}


def _stamp(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC") if t else ""


def html(app: Litestar, snapshot: dict[str, Any], base: str) -> bytes:
    """The page; ``base`` is its address (/status/<slug or link>) for the JSON and feed links."""
    sections = [{**s, "monitors": [{**m, "bars": bars(m["days"]), "chart": _chart(m["latency"]),
                                    "status_text": STATUS_TEXT[m["status"]],
                                    "uptimes": {k: percent(v) for k, v in m["uptime_pct"].items()}}
                                   for m in s["monitors"]]} for s in snapshot["sections"]]
    template = app.template_engine.get_template("status.html")
    return template.render(page=snapshot, sections=sections, base=base, css=CSS, overall_text=OVERALL_TEXT,
                           update_text=UPDATE_TEXT, stamp=_stamp, chart_h=CHART_H).encode()


def json(snapshot: dict[str, Any]) -> bytes:
    return encode_json(snapshot)


def atom(app: Litestar, snapshot: dict[str, Any], page_id: int, base: str) -> bytes:
    """An entry per incident update, newest first."""
    entries = [{"incident": i, "note": u, "id": f"urn:vigil:status-page:{page_id}:incident:{i['id']}:update:{u['id']}"}
               for i in snapshot["incidents"] for u in i["updates"]]
    entries.sort(key=lambda e: e["note"]["created_at"], reverse=True)
    updated = entries[0]["note"]["created_at"] if entries else snapshot["generated_at"]
    template = app.template_engine.get_template("status.atom")
    return template.render(page=snapshot, entries=entries, base=base, updated=updated.isoformat(),
                           feed_id=f"urn:vigil:status-page:{page_id}", update_text=UPDATE_TEXT).encode()


# Badges: the usual flat style (a grey label, a coloured value), text in Verdana 11 px.
BADGE_COLOURS = {"green": "#2e7d32", "yellow": "#8a6d00", "red": "#c62828", "grey": "#616161",
                 "blue": "#1565c0"}


def _text_width(text: str) -> int:
    """Verdana 11 px averages about 7 px a character; narrow ones less."""
    narrow = sum(c in "ilI.,:;|!' ()1" for c in text)
    return int(7 * (len(text) - narrow) + 4 * narrow) + 10


def badge(app: Litestar, label: str, value: str, colour: str) -> bytes:
    lw, vw = _text_width(label), _text_width(value)
    return app.template_engine.get_template("badge.svg").render(
        label=label, value=value, colour=BADGE_COLOURS[colour], lw=lw, vw=vw, w=lw + vw).encode()
