"""A real `vigil api` process with tracing on: each request is a span named by its route,
continuing the client's traceparent and carrying the request id, its SQL statements are child spans (psycopg), and every
line it logs is JSON with the request id and the trace of the request."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx
import psycopg
import pytest

from tests.otlp_fixtures import *  # noqa: F403 (fixtures)
from tests.otlp_fixtures import json_lines, start_service, wait_until
from vigil.accounts import create_account_with_key
from vigil.devcluster import free_port, wait_for_port

# A client's own trace, which the request's span continues.
CLIENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.timeout(90)
async def test_api_requests_are_traced_with_their_statements_and_logged_as_json(settings, otlp, tmp_path):
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        _, key = create_account_with_key(conn, "acme", "admin")
    port, log_file = free_port(), tmp_path / "api.log"
    api = start_service(settings, log_file, "api", "--port", str(port), **otlp.env())
    try:
        await asyncio.to_thread(wait_for_port, port, 30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            ok = await http.get("/api/v1/monitors", headers={"Authorization": f"Bearer {key}",
                                                              "X-Request-ID": "list-1", "traceparent": CLIENT})
            refused = await http.get("/api/v1/monitors", headers={"Authorization": "Bearer vk_wrong",
                                                                   "X-Request-ID": "refused-1"})
        assert (ok.status_code, refused.status_code) == (200, 401)
        await wait_until(lambda: {"list-1", "refused-1"} <= {s.attributes.get("vigil.request_id")
                                                             for s in otlp.spans})
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(20)
    requests = {s.attributes.get("vigil.request_id"): s for s in otlp.spans
                if s.service == "vigil-api" and s.attributes.get("vigil.request_id")}
    listed = requests["list-1"]
    assert listed.name == "GET /api/v1/monitors" and listed.attributes["http.response.status_code"] == 200
    assert (listed.trace_id, listed.parent_id) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    statements = [s for s in otlp.spans if s.trace_id == listed.trace_id and s.attributes.get("db.system") == "postgresql"]
    assert statements, [(s.name, s.attributes) for s in otlp.spans if s.trace_id == listed.trace_id]
    (line,) = [r for r in json_lines(log_file.read_text()) if r.get("request_id") == "refused-1"]
    assert line["logger"] == "vigil.security" and line["trace_id"] == requests["refused-1"].trace_id
