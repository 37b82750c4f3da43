"""A loopback OTLP/HTTP trace receiver (protobuf at /v1/traces, what the services' exporter
sends) and helpers to read the JSON log lines of service processes."""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.services import service_env
from vigil.settings import Settings


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict
    events: tuple[str, ...]
    links: tuple[str, ...]  # span ids


def _value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


@dataclass
class TraceReceiver:
    url: str = ""
    spans: list[ReceivedSpan] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        """What a service needs to send its spans here quickly, every span sampled."""
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": self.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
                "OTEL_TRACES_SAMPLER": "always_on", **extra}

    def named(self, name: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.name == name]

    def take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            attrs = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    self.spans.append(ReceivedSpan(
                        service=attrs.get("service.name", ""), name=s.name, trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(), parent_id=s.parent_span_id.hex(),
                        attributes={a.key: _value(a.value) for a in s.attributes},
                        events=tuple(e.name for e in s.events), links=tuple(li.span_id.hex() for li in s.links)))


@pytest.fixture
async def otlp() -> AsyncIterator[TraceReceiver]:
    receiver = TraceReceiver()

    async def traces(request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        receiver.take(body)
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(),
                            content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    async with TestServer(app, host="127.0.0.1") as server:
        receiver.url = str(server.make_url("")).rstrip("/")
        yield receiver


def start_service(settings: Settings, log_file: Path, *args: str, **env: str) -> subprocess.Popen:
    """A `vigil` service whose standard error (its log) goes to log_file."""
    with open(log_file, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "vigil", *args], env=service_env(settings, **env),
                                stdout=subprocess.DEVNULL, stderr=out, start_new_session=True)


async def wait_until(predicate, seconds: float = 40.0):
    """Poll predicate (while the event loop serves the receivers) until it returns something truthy."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        await asyncio.sleep(0.2)
    return None


def json_lines(text: str) -> list[dict]:
    """Every line parsed as one JSON object (a line that is not fails the test naming it)."""
    parsed = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"a log line is not JSON: {line!r}")
        assert isinstance(record, dict), line
        parsed.append(record)
    return parsed
