"""Check kinds, one module each, all with the signature of ``base.Check``."""

from __future__ import annotations

from ingest.checks import http, tcp
from ingest.checks.base import Check

CHECKS: dict[str, Check] = {
    "http": http.check,
    "tcp": tcp.check,
}
