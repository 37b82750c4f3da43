"""A real Prometheus (Debian's) scrapes a running set of Vigil processes: API, scheduler,
worker, aggregator, evaluator and notifier, each serving its metrics on loopback. What the
test drove (checks of a local target, then of the same target stopped; API requests) must
come back from Prometheus' HTTP API with exactly the counts stored in the database."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis as sync_redis

from tests.conftest import _truncate_all
from tests.pipeline_fixtures import CountingTarget, add_monitors, spawn, stop, wait_until
from tests.services import running
from vigil.accounts import create_account_with_key
from vigil.constants import ErrorKind, check_queue
from vigil.devcluster import free_port, wait_for_port
from vigil.prometheus import Prometheus, scrape_config
from vigil.settings import Settings

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None, reason="needs Debian's prometheus "
                                "(scripts/setup.sh installs it)")
SERVICES = ("scheduler", "worker", "aggregator", "evaluator", "notifier")
MONITORS = 3


class Stack:
    def __init__(self, settings: Settings, key: str, api: str, ports: dict[str, int],
                 prometheus: Prometheus, target: CountingTarget, scheduler: subprocess.Popen) -> None:
        self.settings, self.key, self.api, self.ports = settings, key, api, ports
        self.prometheus, self.target, self.scheduler = prometheus, target, scheduler

    def value(self, expr: str) -> float | None:
        result = self.prometheus.api("query", query=expr)["result"]
        return float(result[0]["value"][1]) if result else None

    def settles_at(self, expr: str, want: float, within_s: float = 20.0) -> None:
        """Prometheus' answer for expr reaches want (it scrapes every second)."""
        try:
            wait_until(lambda: self.value(expr) == want, within_s, 0.5)
        except AssertionError:
            raise AssertionError(f"{expr} = {self.value(expr)}, want {want}") from None


@pytest.fixture(scope="module")
def stack(base_settings: Settings) -> Iterator[Stack]:
    _truncate_all(base_settings.database_url)
    sync_redis.Redis.from_url(base_settings.redis_url).flushall()
    settings = base_settings
    with psycopg.connect(settings.database_url, autocommit=True) as db:
        account_id, key = create_account_with_key(db, "acme", "admin")
    target = CountingTarget()
    ports = {s: free_port() for s in SERVICES}
    api_port = free_port()
    env = {f"VIGIL_{s.upper()}_METRICS_PORT": str(p) for s, p in ports.items()}
    env["VIGIL_LOG_LEVEL"] = "WARNING"
    tmp = Path(tempfile.mkdtemp(prefix="vigil-test-prom-"))
    prometheus = Prometheus(free_port(), tmp, scrape_config(
        {s: f"127.0.0.1:{p}" for s, p in ports.items()}, api=f"127.0.0.1:{api_port}", interval_s=1))
    with running(settings, ["api", "--port", str(api_port)], ["worker"], ["aggregator"], ["evaluator"],
                 ["notifier"], **env):
        scheduler = spawn(settings, "scheduler", **env)
        try:
            for port in (api_port, *ports.values()):
                wait_for_port(port, 30)
            prometheus.start()
            with psycopg.connect(settings.database_url, autocommit=True) as db:
                add_monitors(db, account_id, MONITORS, f"{target.url}/ok", interval_s=10, timeout_ms=1000)
            yield Stack(settings, key, f"http://127.0.0.1:{api_port}", {"api": api_port, **ports},
                        prometheus, target, scheduler)
        finally:
            stop(scheduler)
            prometheus.stop()
            target.close()
            shutil.rmtree(tmp, ignore_errors=True)


def _stored(db: psycopg.Connection) -> tuple[int, int, int]:
    """(real checks stored, of them up, of them refused); missed-slot markers are not checks."""
    return db.execute("SELECT count(*), count(*) FILTER (WHERE up), "
                      f"count(*) FILTER (WHERE error_kind = {int(ErrorKind.refused)}) "
                      "FROM check_results WHERE attempts > 0").fetchone()


@pytest.mark.timeout(120)
def test_every_service_is_scraped_and_its_exposition_passes_promtool(stack: Stack):
    for job in ("api", *SERVICES):
        stack.settles_at(f'up{{job="{job}"}}', 1)
    for service, port in stack.ports.items():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            body = r.read()
        assert b"process_cpu_seconds_total" in body, service
        out = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, check=False)
        assert out.returncode == 0, f"{service}: {out.stdout.decode()}{out.stderr.decode()}"
    assert stack.value('vigil_worker_queue_lag_seconds{job="worker",region="local"}') is not None
    assert stack.value('vigil_aggregator_watermark_lag_seconds{job="aggregator"}') is not None
    assert stack.value('vigil_outbox_oldest_undelivered_age_seconds{job="notifier"}') == 0


@pytest.mark.timeout(120)
def test_prometheus_sees_api_requests_by_route_and_status_and_refusals_by_reason(stack: Stack):
    good = {"Authorization": f"Bearer {stack.key}"}
    for _ in range(4):
        assert httpx.get(f"{stack.api}/api/v1/monitors", headers=good).status_code == 200
    bad = {"Authorization": "Bearer vgl_deadbeef_not-a-key"}
    assert httpx.get(f"{stack.api}/api/v1/monitors", headers=bad).status_code == 401
    assert httpx.get(f"{stack.api}/no/such/path", headers=good).status_code == 404
    ok = 'vigil_api_request_duration_seconds_count{job="api",method="GET",route="/api/v1/monitors",status="200"}'
    stack.settles_at(ok, 4)
    stack.settles_at('vigil_api_request_duration_seconds_count{job="api",route="/api/v1/monitors",status="401"}', 1)
    stack.settles_at('vigil_api_request_duration_seconds_count{job="api",route="unmatched",status="404"}', 1)
    stack.settles_at('vigil_api_refused_requests_total{job="api",reason="auth_failed"}', 1)
    # The monitors' list is read through named queries, timed by name.
    assert stack.value('sum(vigil_db_query_duration_seconds_count{job="api",query!="other"})') > 0


@pytest.mark.timeout(240)
def test_prometheus_counts_every_check_and_the_refusals_of_a_stopped_target(stack: Stack):
    queue = check_queue(stack.settings.region)
    redis = sync_redis.Redis.from_url(stack.settings.redis_url)
    with psycopg.connect(stack.settings.database_url, autocommit=True) as db:
        wait_until(lambda: _stored(db)[1] >= MONITORS, 40)
        stack.target.close()  # the target stops: the next checks find its port refusing
        wait_until(lambda: _stored(db)[2] >= MONITORS, 40)
        # The scheduler's counter, scraped while it runs, covers every slot stored so far
        # (a slot is enqueued before it is checked); a scrape after it stops would see nothing.
        so_far = _stored(db)[0]
        enqueued = 'sum(vigil_scheduler_slots_enqueued_total{job="scheduler",region="local"})'
        wait_until(lambda: (stack.value(enqueued) or 0) >= so_far, 30, 0.5)
        # No more slots: stop scheduling, let the worker drain what is queued.
        stop(stack.scheduler)
        wait_until(lambda: redis.zcard(queue) == 0, 20)
        last = [None]

        def still() -> bool:
            now = _stored(db)
            same, last[0] = now == last[0], now
            return same
        wait_until(still, 20, 2.0)
        total, up, refused = _stored(db)
    assert up >= MONITORS and refused >= MONITORS and total == up + refused
    assert sum(stack.target.counts.values()) == up
    stack.settles_at('sum(vigil_checks_processed_total{job="worker",kind="http"})', total)
    stack.settles_at('sum(vigil_checks_failed_total{job="worker",error_kind="refused"})', refused)
    stack.settles_at('sum(vigil_checks_failed_total{job="worker"})', refused)
    stack.settles_at('sum(vigil_writer_written_rows_total{job="worker"})', total)
    stack.settles_at('sum(vigil_check_duration_seconds_count{job="worker",phase="total"})', total)
    # The scheduler is stopped now: its last scraped values.
    refreshes = 'max_over_time(vigil_db_query_duration_seconds_count{job="scheduler",query="schedule_monitors"}[5m])'
    assert stack.value(refreshes) > 0
    assert stack.value('vigil_writer_buffered_rows{job="worker"}') == 0
    assert stack.value('sum(vigil_writer_dropped_rows_total{job="worker"})') == 0


@pytest.mark.timeout(60)
def test_every_operations_dashboard_query_runs_on_prometheus_and_the_core_panels_answer(stack: Stack):
    import json

    dashboard = json.loads((Path(__file__).resolve().parent.parent / "grafana/dashboards/vigil-operations.json")
                           .read_text())
    answered = {}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            # A range query, as Grafana asks (the instant answer of a rate may be empty).
            now = time.time()
            data = stack.prometheus.api("query_range", query=target["expr"], start=str(now - 120),
                                        end=str(now), step="5")
            answered[target["expr"]] = bool(data["result"])
    core = [e for e in answered if any(m in e for m in (
        "vigil_checks_processed_total", "vigil_checks_failed_total", "vigil_worker_queue_lag_seconds",
        "vigil_db_query_duration_seconds", "vigil_api_request_duration_seconds_bucket",
        "vigil_outbox_oldest_undelivered_age_seconds", "vigil_check_lateness_seconds"))]
    assert core and all(answered[e] for e in core), {e: answered[e] for e in core}
