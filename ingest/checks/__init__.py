"""Check kinds, one module each, all with the signature of ``base.Check``, registered here.
vigil.constants.MONITOR_KINDS names the same kinds (a test keeps the two equal)."""

from __future__ import annotations

from ingest.checks import dns, heartbeat, http, tcp, tls
from ingest.checks.base import Kind

KINDS: dict[str, Kind] = {
    "http": Kind(http.check, http.HttpOptions),
    "tcp": Kind(tcp.check, tcp.TcpOptions),
    "dns": Kind(dns.check, dns.DnsOptions),
    "tls": Kind(tls.check, tls.TlsOptions),
    "heartbeat": Kind(heartbeat.check, heartbeat.HeartbeatOptions),
}
