"""Observability on and off for the overhead benchmarks (``--observe`` of benchmarks.checks and
benchmarks.api): the environment that turns on metrics, JSON logs and tracing at a 1 % sample, and a
loopback OTLP/HTTP endpoint that takes the sampled spans and drops them (its CPU is not
counted: a collector runs elsewhere)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Without: no metrics recorded or served, logs in text, no traces.
PLAIN_ENV = {"VIGIL_METRICS": "false", "VIGIL_LOG_FORMAT": "text"}


def observe_env(traces_endpoint: str) -> dict[str, str]:
    """Metrics recorded (and served where a service has a metrics port), JSON logs at INFO and
    traces to ``traces_endpoint``, 1 % of root spans sampled (their children follow the
    root's decision)."""
    return {"VIGIL_METRICS": "true", "VIGIL_LOG_FORMAT": "json", "VIGIL_LOG_LEVEL": "INFO",
            "OTEL_EXPORTER_OTLP_ENDPOINT": traces_endpoint,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.01"}


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@contextmanager
def trace_sink() -> Iterator[str]:
    """An OTLP/HTTP endpoint on loopback (base URL) answering every export with success."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, name="trace-sink", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
