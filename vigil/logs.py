"""Logging for every service: one JSON object per line (python-json-logger on the standard
logging module) or readable text, and the correlation fields of the work at hand.

Every ``logging.getLogger(__name__)`` call site keeps working: this module only installs
one handler on the root logger. Correlation fields live in a context variable, so they
follow a request or a job through every await: ``with bind(job_id=...):`` around the work,
and each line logged inside carries them (``request_id``, ``job_id``, ``correlation_id``,
``monitor_id``, ``rule_id``, ``incident_id``), plus ``trace_id`` and ``span_id`` while a sampled trace is
being recorded (vigil/tracing.py)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from vigil import tracing

# The fields this module adds to a record, in the order the text format prints them.
CONTEXT_FIELDS = ("request_id", "job_id", "correlation_id", "monitor_id", "rule_id", "incident_id",
                  "trace_id", "span_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_context: ContextVar[dict[str, Any]] = ContextVar("vigil_log_context", default={})  # noqa: B039 - never mutated


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add fields to every line logged inside the block (None values are left out)."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current(name: str) -> Any:
    """A bound field's value, or None."""
    return _context.get().get(name)


class ContextFilter(logging.Filter):
    """Copies the bound fields (and the trace of the current span) onto each record; a field
    the call site passed in ``extra`` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        if tracing.ENABLED and not hasattr(record, "trace_id"):
            ids = tracing.current_ids()
            if ids is not None:
                record.trace_id, record.span_id = ids
        return True


class TextFormatter(logging.Formatter):
    """The classic one-line text format, with the correlation fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        pairs = [f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if hasattr(record, name)]
        return f"{line} [{' '.join(pairs)}]" if pairs else line


def json_formatter() -> logging.Formatter:
    # asctime in ISO 8601 UTC-offset form; the record's own attributes renamed to short keys.
    return JsonFormatter("{asctime}{levelname}{name}{message}", style="{",
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         datefmt="%Y-%m-%dT%H:%M:%S%z")


def resolve_format(configured: str, stream: Any = None) -> str:
    """``json`` or ``text``: the setting when given, else JSON unless the stream is a terminal."""
    if configured:
        return configured
    stream = stream or sys.stderr
    return "text" if getattr(stream, "isatty", lambda: False)() else "json"


def configure(level: str = "INFO", fmt: str = "", stream: Any = None) -> logging.Handler:
    """Install the one root handler (replacing one installed before); returns it."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.set_name("vigil")
    handler.setFormatter(json_formatter() if resolve_format(fmt, stream) == "json" else TextFormatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "vigil"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # arq logs every job start and end at INFO: thousands of lines a minute for a busy worker.
    if level.upper() != "DEBUG":
        logging.getLogger("arq.worker").setLevel(logging.WARNING)
    return handler
