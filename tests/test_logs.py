"""Log lines: one JSON object per line (or readable text), with the correlation fields bound
around the work; the API's request id on every line logged while serving the request; bad
settings named in one line."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.otlp_fixtures import json_lines
from tests.services import service_env
from vigil import logs, tracing


@pytest.fixture
def log_stream() -> Iterator[tuple[io.StringIO, str]]:
    """The root handler of the services, writing JSON to a buffer; the old levels come back after."""
    root, arq = logging.getLogger(), logging.getLogger("arq.worker")
    levels = root.level, arq.level
    buffer = io.StringIO()
    handler = logs.configure("INFO", "json", buffer)
    try:
        yield buffer, handler
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        arq.setLevel(levels[1])


def test_every_line_is_one_json_object_with_the_bound_fields(log_stream):
    buffer, _ = log_stream
    log = logging.getLogger("ingest.worker")
    with logs.bind(job_id="chk:eu:1700000000:0", monitor_id=7):
        log.info("batch of %d checks", 3)
        with logs.bind(monitor_id=8, rule_id=None):
            try:
                raise RuntimeError("boom\nsecond line")
            except RuntimeError:
                log.exception("check failed")
    log.warning("after", extra={"incident_id": 12})
    first, failed, after = json_lines(buffer.getvalue())
    assert first["message"] == "batch of 3 checks" and first["level"] == "INFO"
    assert first["logger"] == "ingest.worker" and first["time"].startswith("20")
    assert (first["job_id"], first["monitor_id"]) == ("chk:eu:1700000000:0", 7)
    assert failed["monitor_id"] == 8 and "rule_id" not in failed
    assert "RuntimeError: boom" in failed["exc_info"]
    assert "job_id" not in after and after["incident_id"] == 12
    assert logs.current("job_id") is None


def test_text_format_appends_the_fields():
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.TextFormatter(logs.TEXT_FORMAT))
    handler.addFilter(logs.ContextFilter())
    log = logging.getLogger("vigil.test.text")
    log.addHandler(handler)
    log.propagate = False
    try:
        with logs.bind(request_id="r-1", monitor_id=3):
            log.warning("slow answer")
        log.warning("plain")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    with_fields, plain = buffer.getvalue().splitlines()
    assert with_fields.endswith("vigil.test.text: slow answer [request_id=r-1 monitor_id=3]")
    assert plain.endswith("vigil.test.text: plain")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("configured", "stream", "expected"), [
    ("", io.StringIO(), "json"),
    ("", _Terminal(), "text"),
    ("json", _Terminal(), "json"),
    ("text", io.StringIO(), "text"),
])
def test_json_unless_a_terminal_or_told(configured, stream, expected):
    assert logs.resolve_format(configured, stream) == expected


async def test_api_lines_carry_the_request_id(log_stream, client):
    buffer, _ = log_stream
    answer = await client.get("/api/v1/monitors", headers={"Authorization": "Bearer vk_nope",
                                                            "X-Request-ID": "req-from-client"})
    assert answer.status_code == 401 and answer.headers["x-request-id"] == "req-from-client"
    answer = await client.get("/api/v1/monitors", headers={"Authorization": "Bearer vk_nope"})
    generated = answer.headers["x-request-id"]
    lines = [r for r in json_lines(buffer.getvalue()) if r["logger"] == "vigil.security"]
    assert [r["request_id"] for r in lines] == ["req-from-client", generated]


@pytest.mark.parametrize(("env", "named"), [
    ({"VIGIL_LOG_FORMAT": "xml"}, "'xml'"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "'grpc'"),
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "'zipkin'"),
])
def test_bad_logging_or_tracing_settings_are_named_in_one_line(settings, env, named):
    done = subprocess.run([sys.executable, "-m", "vigil", "scheduler"], env=service_env(settings, **env),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and named in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("env", "wanted"), [
    ({}, False),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
    ({"OTEL_TRACES_EXPORTER": "console"}, True),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
])
def test_tracing_is_off_unless_asked_for(env, wanted):
    assert tracing.wanted(env) is wanted


def test_traceparent_helpers_read_the_w3c_form():
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert tracing.trace_id_of(tp) == "0af7651916cd43dd8448eb211c80319c"
    assert tracing.trace_id_of(None) is None and tracing.trace_id_of("garbage") is None
    sc = tracing.span_context_of(tp)
    assert format(sc.span_id, "016x") == "b7ad6b7169203331" and sc.trace_flags.sampled
    # Off in this process: nothing to carry, and a span costs nothing.
    assert tracing.traceparent() is None
    with tracing.span("anything") as span:
        assert not span.is_recording()


def test_json_formatter_output_is_one_line_per_record():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "multi\nline %s", ("arg",), None)
    out = logs.json_formatter().format(record)
    assert "\n" not in out and json.loads(out)["message"] == "multi\nline arg"


def test_a_statement_outside_traced_work_is_no_trace_of_its_own(monkeypatch):
    from opentelemetry import trace
    from opentelemetry.sdk.trace.sampling import Decision

    from vigil.sampling import NoLoneClientSpans

    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    sampler = NoLoneClientSpans()
    parent = trace.set_span_in_context(trace.NonRecordingSpan(tracing.span_context_of(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")))
    assert sampler.should_sample(None, 1, "SELECT", trace.SpanKind.CLIENT).decision == Decision.DROP
    assert sampler.should_sample(parent, 1, "SELECT", trace.SpanKind.CLIENT).decision == Decision.RECORD_AND_SAMPLE
    assert sampler.should_sample(None, 1, "worker.job", trace.SpanKind.INTERNAL).decision == Decision.RECORD_AND_SAMPLE
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    assert NoLoneClientSpans().should_sample(None, 1, "worker.job").decision == Decision.DROP
