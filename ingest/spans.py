"""Trace spans of the check pipeline: one span per check inside a recorded job, its phases as
events, and the first check of a monitor after an API request created or changed it logged
with that request's id.

A check's span is written after the fact from the runner's timings, so an unsampled job
(most of them, at a low sampling rate) costs one ``is_recording()`` per check."""

from __future__ import annotations

import logging

from opentelemetry import trace

from ingest.checks.base import CheckResult, MonitorSpec
from vigil import tracing

log = logging.getLogger("ingest.worker")

# (event name, Timings field) in the order the phases happen.
PHASES = (("dns", "dns_us"), ("connect", "connect_us"), ("tls", "tls_us"))


def record_check(spec: MonitorSpec, started: float, res: CheckResult) -> None:
    """A span for one finished check (``started`` is its wall-clock start, in seconds), a
    child of the current job's span; phases become events at the moment each one ended."""
    t = res.timings
    start_ns = int(started * 1e9)
    end_ns = start_ns + t.total_us * 1000
    span = tracing.tracer.start_span("check", start_time=start_ns, attributes={
        "monitor_id": spec.id, "check.kind": spec.kind, "check.up": res.up,
        "check.error_kind": res.error_kind.name, "check.attempts": res.attempts,
        "http.response.status_code": res.status_code})
    at_us = 0
    for name, field in PHASES:
        took = getattr(t, field)
        if took:
            at_us += took
            span.add_event(name, {"duration_us": took}, timestamp=start_ns + at_us * 1000)
    if t.ttfb_us:
        span.add_event("first_byte", {"duration_us": t.ttfb_us},
                       timestamp=min(end_ns, start_ns + (at_us + t.ttfb_us) * 1000))
    if not res.up:
        span.set_status(trace.StatusCode.ERROR, res.error or res.error_kind.name)
    span.end(end_time=max(end_ns, start_ns))


def log_first_check(spec: MonitorSpec, request_id: str, slot: int, res: CheckResult) -> None:
    """The line that ties an API request to the first check it caused."""
    log.info("first check of monitor %d since request %s: %s", spec.id, request_id,
             "up" if res.up else f"down ({res.error_kind.name})",
             extra={"monitor_id": spec.id, "request_id": request_id, "slot": slot, "up": res.up})
