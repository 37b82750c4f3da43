"""Logs and traces across real processes: the API's request id reaches the worker's first
check of the monitor it created, every line the scheduler and worker write is one JSON
object, and one trace runs from the scheduler's enqueue through the worker's job and checks
to the writer's flush (sent by OTLP to a loopback receiver)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from tests.otlp_fixtures import *  # noqa: F403 (fixtures)
from tests.otlp_fixtures import json_lines, start_service, wait_until


async def _create_monitor(client, auth, http_target, request_id: str) -> int:
    answer = await client.post("/api/v1/monitors", headers={**auth, "X-Request-ID": request_id}, json={
        "name": "traced", "target": f"{http_target}/ok", "interval_s": 10, "timeout_ms": 2000})
    assert answer.status_code == 201, answer.text
    assert answer.headers["x-request-id"] == request_id
    return answer.json()["id"]


def _stop(*procs) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        p.wait(20)


@pytest.mark.timeout(90)
async def test_request_id_follows_a_monitor_from_the_api_to_its_first_check(
        client, auth, settings, http_target, tmp_path: Path):
    mid = await _create_monitor(client, auth, http_target, "create-req-42")
    logs = {name: tmp_path / f"{name}.log" for name in ("scheduler", "worker")}
    procs = [start_service(settings, logs[name], name) for name in logs]

    def first_check():
        return [r for r in json_lines(logs["worker"].read_text())
                if r.get("monitor_id") == mid and r["message"].startswith("first check")]

    try:
        found = await wait_until(first_check)
        await asyncio.sleep(1.5)  # a later check of the same monitor must not repeat the line
    finally:
        _stop(*procs)
    assert found, logs["worker"].read_text()
    lines = {name: json_lines(path.read_text()) for name, path in logs.items()}
    (line,) = [r for r in lines["worker"] if r.get("monitor_id") == mid and r["message"].startswith("first check")]
    assert line["request_id"] == "create-req-42"
    assert line["job_id"].startswith("chk:local:") and line["level"] == "INFO" and line["logger"] == "ingest.worker"
    assert line["up"] is True and "time" in line
    assert any(r["message"] == "scheduler started" for r in lines["scheduler"])
    # Tracing is off by default: no trace ids anywhere.
    assert not [r for rs in lines.values() for r in rs if "trace_id" in r]


@pytest.mark.timeout(90)
async def test_one_trace_spans_scheduler_worker_and_writer(client, auth, settings, http_target, otlp, tmp_path):
    mid = await _create_monitor(client, auth, http_target, "traced-req-7")
    env = otlp.env(VIGIL_LOG_FORMAT="json")
    logs = {name: tmp_path / f"{name}.log" for name in ("scheduler", "worker")}
    procs = [start_service(settings, logs[name], name, **env) for name in logs]

    def joined_flush():
        checks = {s.trace_id for s in otlp.named("check") if s.attributes.get("monitor_id") == mid}
        return [s for s in otlp.named("writer.flush") if s.trace_id in checks]

    try:
        flushes = await wait_until(joined_flush)
    finally:
        _stop(*procs)  # a stopped service exports what it still holds
    assert flushes, [(s.service, s.name) for s in otlp.spans]
    trace_id = flushes[0].trace_id
    spans = {s.span_id: s for s in otlp.spans if s.trace_id == trace_id}
    by_name = {s.name: s for s in spans.values()}
    enqueue, job, flush = by_name["scheduler.enqueue"], by_name["worker.job"], by_name["writer.flush"]
    assert (enqueue.service, job.service, flush.service) == ("vigil-scheduler", "vigil-worker", "vigil-worker")
    assert job.parent_id == enqueue.span_id and enqueue.parent_id == ""
    assert job.attributes["job_id"] == enqueue.attributes["job_id"]
    check = next(s for s in spans.values() if s.name == "check" and s.attributes["monitor_id"] == mid)
    assert check.parent_id == job.span_id and check.attributes["check.up"] is True
    assert {"connect", "first_byte"} <= set(check.events)
    assert flush.parent_id == job.span_id or job.span_id in flush.links
    # psycopg's spans: the scheduler's reads of the schedule are traced too, always inside
    # a span of Vigil's (a statement outside any traced work is not a trace of its own).
    statements = [s for s in otlp.spans if s.attributes.get("db.system") == "postgresql"]
    assert any(s.service == "vigil-scheduler" for s in statements)
    assert all(s.parent_id for s in statements), [s.name for s in statements if not s.parent_id]
    # A job's log lines carry its trace and span.
    worker_lines = json_lines(logs["worker"].read_text())
    first = next(r for r in worker_lines if r.get("monitor_id") == mid and r["message"].startswith("first check"))
    assert first["request_id"] == "traced-req-7"
    jobs = {(s.trace_id, s.span_id, s.attributes["job_id"]) for s in otlp.named("worker.job")}
    assert (first["trace_id"], first["span_id"], first["job_id"]) in jobs
