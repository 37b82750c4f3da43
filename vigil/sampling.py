"""The trace sampler: the one ``OTEL_TRACES_SAMPLER`` names, except that a client span with
no parent (a SQL statement outside any traced work: a pool opening a connection, a poll
that finds nothing) is never a trace of its own. Statements inside a request, a job or a
tick are sampled with it."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, _get_from_env_or_default
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes


class NoLoneClientSpans(Sampler):
    def __init__(self, inner: Sampler | None = None) -> None:
        self.inner = inner or _get_from_env_or_default()

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str,
                      kind: SpanKind | None = None, attributes: Attributes = None,
                      links: Sequence[Link] | None = None, trace_state: TraceState | None = None) -> SamplingResult:
        if kind == SpanKind.CLIENT and not trace.get_current_span(parent_context).get_span_context().is_valid:
            return SamplingResult(Decision.DROP)
        return self.inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"NoLoneClientSpans{{{self.inner.get_description()}}}"
