"""An incident leads to its logs and its trace: the evaluator process that opens it stores its
tick's job id and trace id on it, the notifier process delivers its notification inside the
same trace, and the API returns both ids on the incident and the notification."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from tests.alerts_fixtures import MINUTE, T0, incidents, make_monitor, make_rule, minutes, write_results
from tests.notify_fixtures import *  # noqa: F403 (fixtures)
from tests.notify_fixtures import SECRET, make_channel
from tests.otlp_fixtures import *  # noqa: F403 (fixtures)
from tests.otlp_fixtures import json_lines, start_service, wait_until
from tests.services import service_env


@pytest.mark.timeout(90)
async def test_incident_keeps_the_job_and_trace_of_the_tick_that_opened_it(
        db, account, auth, nsettings, nclient, receiver, otlp, tmp_path):
    channel = make_channel(db, nsettings, account[0], "webhook", {"url": receiver.url, "secret": SECRET})
    mid = make_monitor(db, account[0], regions=("eu",))
    rule = make_rule(db, account[0], "down", {"failures": 2}, monitor_id=mid, channel_ids=[channel])
    write_results(db, mid, "eu", minutes(T0, 5), up=False)

    env = service_env(nsettings, **otlp.env())
    evaluated = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "vigil", "evaluator", "--once", "--at", (T0 + 2 * MINUTE).isoformat()],
        env=env, capture_output=True, text=True, timeout=60)
    assert evaluated.returncode == 0, evaluated.stderr
    (incident,) = incidents(db)
    line = next(r for r in json_lines(evaluated.stderr) if r.get("incident_id") == incident["id"])
    assert (line["rule_id"], line["monitor_id"]) == (rule, mid)
    assert line["job_id"] == incident["correlation_id"] and line["trace_id"] == incident["trace_id"]

    notifier_log = tmp_path / "notifier.log"
    notifier = start_service(nsettings, notifier_log, "notifier", VIGIL_SECRET_KEY=nsettings.secret_key,
                             VIGIL_NOTIFY_POLL_SECONDS="0.2", **otlp.env())
    try:
        await wait_until(lambda: otlp.named("notify.deliver"))
    finally:
        notifier.terminate()
        notifier.wait(20)
    assert len(receiver.requests) == 1
    json_lines(notifier_log.read_text())

    trace = [s for s in otlp.spans if s.trace_id == incident["trace_id"]]
    (tick,) = [s for s in trace if s.name == "evaluator.tick"]
    (kind,) = [s for s in trace if s.name == "evaluator.kind" and s.attributes["kind"] == "down"]
    (deliver,) = [s for s in trace if s.name == "notify.deliver"]
    assert len([s for s in trace if s.name == "evaluator.kind"]) > 1  # one span per rule kind
    assert (tick.service, deliver.service) == ("vigil-evaluator", "vigil-notifier")
    assert kind.parent_id == tick.span_id and deliver.parent_id == kind.span_id
    assert "incident.firing" in kind.events
    assert deliver.attributes["incident_id"] == incident["id"] and deliver.attributes["ok"] is True
    assert tick.attributes["job_id"] == incident["correlation_id"]

    got = (await nclient.get(f"/api/v1/incidents/{incident['id']}", headers=auth)).json()
    assert (got["correlation_id"], got["trace_id"]) == (incident["correlation_id"], incident["trace_id"])
    (sent,) = got["notifications"]
    assert (sent["correlation_id"], sent["trace_id"]) == (incident["correlation_id"], incident["trace_id"])
    listed = (await nclient.get("/api/v1/notifications", headers=auth)).json()
    assert [(n["id"], n["trace_id"]) for n in listed] == [(sent["id"], incident["trace_id"])]
