"""Every Prometheus metric Vigil exports, in one catalogue, and the helpers that serve them.

Each service records into the process's default registry (which also carries the client
library's process_* and python_* metrics) and serves it: the API on its own app at /metrics
(api/metrics.py), the scheduler, worker, aggregator, evaluator and notifier on a port of
their own (``VIGIL_<SERVICE>_METRICS_PORT``, bound to ``VIGIL_METRICS_HOST``; 0 = off).

Label values come from small fixed sets (region, check kind, error kind, phase, rule kind,
channel kind, outcome, query name, route template, status): never a monitor, URL or key.
Hot paths use children bound once (``labels()`` looked up ahead of time, see CheckMetrics),
so recording a check costs a few attribute lookups and lock-protected additions.

docs/observability.md lists these metrics; tests/test_metrics_catalogue.py holds the two
to the same names, types, labels and meanings (``python -m vigil.metrics`` prints the table)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server
from prometheus_client.metrics import MetricWrapperBase
from psycopg import AsyncCursor

from vigil.constants import ErrorKind

log = logging.getLogger(__name__)

# Bucket bounds, seconds.
FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CHECK = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
LATENESS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

# --- worker: checks and the queue ------------------------------------------------------------
CHECKS_PROCESSED = Counter("vigil_checks_processed_total", "Checks run by this worker (up or down).",
                           ["region", "kind"])
CHECKS_FAILED = Counter("vigil_checks_failed_total", "Checks that found their target down, by why.",
                        ["region", "kind", "error_kind"])
CHECK_DURATION = Histogram("vigil_check_duration_seconds",
                           "Time a check spent in each phase (dns, connect, tls, ttfb, total); "
                           "a phase that did not happen is not observed.",
                           ["kind", "phase"], buckets=CHECK)
CHECK_LATENESS = Histogram("vigil_check_lateness_seconds",
                           "How long after its slot second a check started.", ["region"], buckets=LATENESS)
QUEUE_LAG = Gauge("vigil_worker_queue_lag_seconds",
                  "Age of the oldest due job in the region's queue (0 when none waits); "
                  "sampled every few seconds.", ["region"])
QUEUED_JOBS = Gauge("vigil_worker_queued_jobs", "Jobs in the region's queue, deferred ones included.",
                    ["region"])
BATCHES = Counter("vigil_worker_batches_total",
                  "Check batches (jobs) finished, by outcome: done, retried or dead_lettered.",
                  ["region", "outcome"])
CHECKS_IN_FLIGHT = Gauge("vigil_worker_checks_in_flight", "Checks running now in this worker.")

# --- worker: the result writer ---------------------------------------------------------------
WRITER_BUFFERED = Gauge("vigil_writer_buffered_rows", "Result rows waiting in the writer's buffer.")
WRITER_WRITTEN = Counter("vigil_writer_written_rows_total", "Result rows committed to check_results.")
WRITER_HELD = Counter("vigil_writer_held_rows_total",
                      "Rows of jobs acknowledged while the database was down (kept in the buffer).")
WRITER_DROPPED = Counter("vigil_writer_dropped_rows_total",
                         "Rows refused because the buffer was full, or lost at shutdown.")
WRITER_REFUSED = Counter("vigil_writer_refused_rows_total",
                         "Rows the database refused as older than the raw retention horizon.")
WRITER_FLUSH = Histogram("vigil_writer_flush_duration_seconds", "Time of one successful COPY flush.",
                         buckets=FAST)
WRITER_FLUSH_FAILURES = Counter("vigil_writer_flush_failures_total",
                                "Flushes that failed because the database was unreachable.")

# --- scheduler -------------------------------------------------------------------------------
SLOTS_ENQUEUED = Counter("vigil_scheduler_slots_enqueued_total",
                         "(monitor, slot) checks put on the queue.", ["region"])
JOBS_ENQUEUED = Counter("vigil_scheduler_jobs_enqueued_total", "Batch jobs put on the queue.", ["region"])
SLOTS_MISSED = Counter("vigil_scheduler_slots_missed_total",
                       "Slots the sweeper stored as missed (no worker checked them in time).")
SCHEDULER_TICK = Histogram("vigil_scheduler_tick_duration_seconds", "Time of one enqueueing tick.",
                           buckets=FAST)

# --- database, every service -----------------------------------------------------------------
DB_QUERY = Histogram("vigil_db_query_duration_seconds",
                     "Time of one statement, by its name in sql/queries (other: unnamed SQL).",
                     ["query"], buckets=FAST)

# --- aggregator ------------------------------------------------------------------------------
WATERMARK_LAG = Gauge("vigil_aggregator_watermark_lag_seconds",
                      "How far the hourly rollup watermark is behind now (an hour is rolled about "
                      "65 minutes after it starts, so about 1-2 h is normal).")
ROLLUP_DURATION = Histogram("vigil_aggregator_rollup_duration_seconds",
                            "Time of one aggregator run (roll, retention, packing).", buckets=SLOW)
BUCKETS_ROLLED = Counter("vigil_aggregator_buckets_rolled_total",
                       "Hour buckets rolled (new hours, and re-rolled (monitor, hour) pairs).")
AGGREGATOR_FAILURES = Counter("vigil_aggregator_failures_total", "Aggregator runs that raised an error.")

# --- evaluator -------------------------------------------------------------------------------
EVALUATOR_TICK = Histogram("vigil_evaluator_tick_duration_seconds",
                           "Time of one evaluator tick (every rule kind); the tick runs once a minute.",
                           buckets=SLOW)
EVALUATOR_LAST_TICK = Gauge("vigil_evaluator_last_tick_timestamp_seconds",
                            "When the last evaluator tick finished (Unix time).")
RULES_EVALUATED = Counter("vigil_evaluator_rules_evaluated_total",
                          "(rule, monitor) pairs evaluated that were bad or had an open incident.", ["kind"])
EVALUATOR_ERRORS = Counter("vigil_evaluator_errors_total", "Rule kinds whose evaluation failed in a tick.",
                           ["kind"])
INCIDENTS_OPENED = Counter("vigil_incidents_opened_total", "Incidents that started firing.", ["kind"])
INCIDENTS_RESOLVED = Counter("vigil_incidents_resolved_total", "Firing incidents that resolved.", ["kind"])

# --- notifier --------------------------------------------------------------------------------
DELIVERIES = Counter("vigil_notification_deliveries_total",
                     "Delivery attempts by channel kind and outcome: sent, retry (will be tried "
                     "again) or dead (permanent failure or last try).", ["channel_kind", "outcome"])
DELIVERY_DURATION = Histogram("vigil_notification_delivery_duration_seconds", "Time of one delivery attempt.",
                              ["channel_kind"], buckets=SLOW)
OUTBOX_OLDEST = Gauge("vigil_outbox_oldest_undelivered_age_seconds",
                      "Age of the oldest notification not yet sent or dead (0 when none); sampled "
                      "every few seconds.")
OUTBOX_UNDELIVERED = Gauge("vigil_outbox_undelivered_rows", "Notifications not yet sent or dead.")

# --- API -------------------------------------------------------------------------------------
API_REQUESTS = Histogram("vigil_api_request_duration_seconds",
                         "Time to answer a request, by method, route template (unmatched for "
                         "unknown paths) and status code.", ["method", "route", "status"], buckets=FAST)
API_REFUSED = Counter("vigil_api_refused_requests_total",
                      "Requests refused or flagged: auth_failed, forbidden, rate_limited, invalid_burst.",
                      ["reason"])

REFUSAL_REASONS = ("auth_failed", "forbidden", "rate_limited", "invalid_burst")
PHASES = ("dns", "connect", "tls", "ttfb", "total")
OUTCOMES = ("sent", "retry", "dead")
_ERROR_KINDS = frozenset(int(k) for k in ErrorKind)


def catalogue() -> Iterator[tuple[str, str, tuple[str, ...], str]]:
    """(exposed name, type, label names, meaning) of every metric above, in order."""
    for value in globals().values():
        if isinstance(value, MetricWrapperBase):
            name = value._name + ("_total" if value._type == "counter" else "")
            yield name, value._type, tuple(value._labelnames), value._documentation


def metrics_table() -> str:
    """The Markdown table of docs/observability.md."""
    rows = ["| metric | type | labels | meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| `{name}` | {kind} | {', '.join(labels) or '-'} | {doc} |" for name, kind, labels, doc in catalogue()]
    return "\n".join(rows)


class NoCheckMetrics:
    """CheckMetrics' stand-in with metrics off (VIGIL_METRICS=false)."""

    def record(self, kind: str, result: Any, lateness_s: float) -> None:
        pass


class CheckMetrics:
    """The worker's per-check series, bound once for its region: recording a check is a dict
    lookup by kind, two or three additions and a few histogram observations."""

    def __init__(self, region: str, kinds: tuple[str, ...]) -> None:
        self.region = region
        self._kinds = {k: (CHECKS_PROCESSED.labels(region, k), *(CHECK_DURATION.labels(k, p) for p in PHASES))
                       for k in kinds}
        self._failed: dict[tuple[str, int], Any] = {}
        self.lateness = CHECK_LATENESS.labels(region)

    def failed(self, kind: str, error_kind: int) -> Any:
        child = self._failed.get((kind, error_kind))
        if child is None:
            name = ErrorKind(error_kind).name if error_kind in _ERROR_KINDS else str(error_kind)
            child = self._failed[(kind, error_kind)] = CHECKS_FAILED.labels(self.region, kind, name)
        return child

    def record(self, kind: str, result: Any, lateness_s: float) -> None:
        bound = self._kinds.get(kind)
        if bound is None:  # a kind this worker does not know: counted under its name anyway
            bound = self._kinds[kind] = (CHECKS_PROCESSED.labels(self.region, kind),
                                         *(CHECK_DURATION.labels(kind, p) for p in PHASES))
        processed, dns, connect, tls, ttfb, total = bound
        processed.inc()
        if not result.up:
            self.failed(kind, int(result.error_kind)).inc()
        t = result.timings
        if t.dns_us:
            dns.observe(t.dns_us / 1e6)
        if t.connect_us:
            connect.observe(t.connect_us / 1e6)
        if t.tls_us:
            tls.observe(t.tls_us / 1e6)
        if t.ttfb_us:
            ttfb.observe(t.ttfb_us / 1e6)
        total.observe(t.total_us / 1e6)
        self.lateness.observe(lateness_s)


# --- database timing -------------------------------------------------------------------------
_QUERY_CHILDREN: dict[str, Any] = {}
_OTHER = "other"


def _query_names() -> dict[str, str]:
    from vigil.queries import _all

    return {text: name for name, text in _all().items()}


_NAMES: dict[str, str] | None = None


def query_timer(query: Any) -> Any:
    """The histogram child for a statement: its name in sql/queries, or ``other``."""
    global _NAMES
    if _NAMES is None:
        _NAMES = _query_names()
    name = _NAMES.get(query, _OTHER) if isinstance(query, str) else _OTHER
    child = _QUERY_CHILDREN.get(name)
    if child is None:
        child = _QUERY_CHILDREN[name] = DB_QUERY.labels(name)
    return child


class TimedCursor(AsyncCursor):
    """The services' cursor: times each statement into vigil_db_query_duration_seconds."""

    async def execute(self, query, params=None, **kwargs):  # type: ignore[override]
        started = time.perf_counter()
        try:
            return await super().execute(query, params, **kwargs)
        finally:
            query_timer(query).observe(time.perf_counter() - started)


# --- serving ---------------------------------------------------------------------------------
class MetricsServer:
    """Prometheus' own HTTP exposition server in a thread of this process."""

    def __init__(self, host: str, port: int, service: str) -> None:
        self.server, self.thread = start_http_server(port, host)
        self.address = f"{host}:{self.server.server_port}"
        log.info("%s metrics on http://%s/metrics", service, self.address)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(settings: Any, service: str) -> MetricsServer | None:
    """Start the metrics endpoint of ``service`` when its port setting is not 0."""
    port = getattr(settings, f"{service}_metrics_port")
    if not port or not settings.metrics:
        return None
    try:
        return MetricsServer(settings.metrics_host, port, service)
    except OSError as exc:
        raise OSError(f"cannot serve {service} metrics on {settings.metrics_host}:{port} "
                      f"(VIGIL_{service.upper()}_METRICS_PORT): {exc.strerror or exc}") from exc


if __name__ == "__main__":
    print(metrics_table())
