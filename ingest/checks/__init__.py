"""Check kinds, one module each, each declaring its ``KIND`` (see ``base.Kind``): adding a
kind is its module plus one line here. The first is a monitor's kind when none is named."""

from __future__ import annotations

from ingest.checks import dns, heartbeat, http, tcp, tls
from ingest.checks.registry import Registry

KINDS = Registry(
    http.KIND,
    tcp.KIND,
    dns.KIND,
    tls.KIND,
    heartbeat.KIND,
)
