"""OpenTelemetry traces, configured by the standard ``OTEL_*`` environment variables and off
unless asked for.

Tracing is on in a process when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) or ``OTEL_TRACES_EXPORTER`` is set, unless
``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``. Spans go out by OTLP over
HTTP/protobuf in batches (``OTEL_BSP_*``); sampling follows ``OTEL_TRACES_SAMPLER`` and
``OTEL_TRACES_SAMPLER_ARG`` (the SDK's default: parent-based, always on); the service name
is ``vigil-<service>`` unless ``OTEL_SERVICE_NAME`` says otherwise.

A trace crosses processes as a W3C ``traceparent`` string: inside an arq job's payload
(scheduler → worker) and in an outbox row (evaluator → notifier). When tracing is off,
``traceparent()`` is None and ``span()`` costs one flag test."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

ENABLED = False
tracer = trace.get_tracer("vigil")
_propagator = TraceContextTextMapPropagator()


def wanted(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces (see the module's docstring)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def _exporter(env: Mapping[str, str]):
    kind = env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if kind != "otlp":
        raise ValueError(f"OTEL_TRACES_EXPORTER={kind!r} is not supported: use otlp, console or none")
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf"
    if protocol != "http/protobuf":
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported: use http/protobuf")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def setup(service: str, exporter: Any = None, env: Mapping[str, str] = os.environ) -> bool:
    """Turn tracing on for this process when the environment asks for it (or an exporter is
    given, which tests use); also traces psycopg's statements. Returns whether it is on."""
    global ENABLED
    if ENABLED:
        return True
    if exporter is None and not wanted(env):
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from vigil.sampling import NoLoneClientSpans

    provider = TracerProvider(sampler=NoLoneClientSpans(), resource=Resource.create(
        {SERVICE_NAME: env.get("OTEL_SERVICE_NAME") or f"vigil-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(exporter or _exporter(env)))
    trace.set_tracer_provider(provider)
    _instrument_psycopg()
    ENABLED = True
    log.info("tracing on for vigil-%s", service)
    return True


def _instrument_psycopg() -> None:
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    instrumentor = PsycopgInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        # No SQL comments: they would make every statement text unique to PostgreSQL's
        # statement statistics and prepared-statement cache.
        instrumentor.instrument(enable_commenter=False, skip_dep_check=True)


def shutdown() -> None:
    """Export what is still buffered (a process that exits through os._exit skips atexit)."""
    provider = trace.get_tracer_provider()
    if ENABLED and hasattr(provider, "shutdown"):
        provider.shutdown()


def traceparent() -> str | None:
    """The current span as a W3C traceparent, or None when there is none to carry."""
    if not ENABLED:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def recorded_traceparent() -> str | None:
    """The current span as a traceparent when it is being recorded (sampled), else None: what
    is stored for a reader to look up must name a trace that exists."""
    span = current_span()
    return traceparent() if span.is_recording() else None


def current_span() -> trace.Span:
    return trace.get_current_span() if ENABLED else trace.INVALID_SPAN


def context_of(parent: str | trace.SpanContext | None) -> Context | None:
    if isinstance(parent, trace.SpanContext):
        return trace.set_span_in_context(trace.NonRecordingSpan(parent))
    return _propagator.extract({"traceparent": parent}) if parent else None


def span_context_of(parent: str | None) -> trace.SpanContext | None:
    """The span a traceparent names (for links), or None."""
    ctx = context_of(parent)
    if ctx is None:
        return None
    sc = trace.get_current_span(ctx).get_span_context()
    return sc if sc.is_valid else None


def trace_id_of(parent: str | None) -> str | None:
    """The 32-hex trace id inside a traceparent."""
    parts = (parent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span while it is recorded, for log lines."""
    sc = trace.get_current_span().get_span_context()
    if not sc.is_valid or not sc.trace_flags.sampled:
        return None
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x")


@contextmanager
def span(name: str, parent: str | trace.SpanContext | None = None, links: Sequence[trace.SpanContext] = (),
         span_kind: trace.SpanKind = trace.SpanKind.INTERNAL, **attributes: Any) -> Iterator[trace.Span]:
    """A span around the block, made current; a child of ``parent`` (a traceparent) when
    given (or a span's context), else of the current span. None-valued attributes are left out."""
    if not ENABLED:
        yield trace.INVALID_SPAN
        return
    attrs = {k: v for k, v in attributes.items() if v is not None}
    with tracer.start_as_current_span(name, context=context_of(parent), kind=span_kind, attributes=attrs,
                                      links=[trace.Link(sc) for sc in links]) as current:
        yield current


@contextmanager
def sampled_span(name: str, parent: str | trace.SpanContext | None = None,
                 span_kind: trace.SpanKind = trace.SpanKind.INTERNAL, **attributes: Any) -> Iterator[trace.Span]:
    """Like ``span()`` for the outermost span of a unit of work (a request, a job), except that
    a span that is not sampled is not made current: the work runs in the caller's context.
    Made current, an unsampled request span cost the API about 45 us a request (measured by
    benchmarks.api --observe), ten times the span itself; nothing inside needs it, since its
    children would not be sampled and statements without a parent are not traced."""
    if not ENABLED:
        yield trace.INVALID_SPAN
        return
    started = tracer.start_span(name, context=context_of(parent), kind=span_kind)
    if not started.is_recording():
        yield started
        return
    started.set_attributes({k: v for k, v in attributes.items() if v is not None})
    with trace.use_span(started, end_on_exit=True):
        yield started

