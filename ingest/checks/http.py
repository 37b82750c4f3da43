"""HTTP(S) check: one request on a fresh connection, redirects followed up to a limit,
the body read up to a cap, then status, keyword and JSON assertions. The request goes
through the lean client (http_lean.py) when the context has one and it covers the URL,
otherwise through aiohttp; both leave the same marks and fail with the same kinds."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, urlsplit

import aiohttp
from pydantic import AfterValidator, Field, JsonValue, field_validator, model_serializer, model_validator

from ingest.checks import body as body_assert
from ingest.checks.base import (
    CheckContext,
    CheckResult,
    Destination,
    Kind,
    MonitorSpec,
    Options,
    Timings,
    flag,
)
from ingest.checks.certinfo import from_der
from ingest.checks.headers import MAX_HEADER_BYTES, MAX_HEADERS, check_headers, check_name, check_value
from ingest.checks.http_lean import LeanFailure
from ingest.checks.http_transport import current_marks
from vigil.constants import ErrorKind
from vigil.netguard import BlockedTarget, default_port, valid_port

SCHEMES = ("http", "https")
JSON_PATH = r"^(\$\.)?[^.]+(\.[^.]+)*$"
MAX_JSON_EQUALS_BYTES = 4096


class HttpOptions(Options):
    kind: Literal["http"] = "http"
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[Annotated[str, AfterValidator(check_name)], Annotated[str, AfterValidator(check_value)]] = Field(
        default_factory=dict, description=(
        f"at most {MAX_HEADERS} request headers, {MAX_HEADER_BYTES} bytes in all; Host, "
        "Content-Length, Transfer-Encoding, Connection and other hop-by-hop headers are refused"))
    body: Annotated[str, Field(max_length=65_536)] | None = Field(default=None, description="request body")
    status_codes: list[Annotated[int, Field(ge=100, le=599)]] = Field(
        default_factory=list, max_length=50, description="accepted HTTP statuses; empty means 2xx/3xx")
    max_redirects: int = Field(default=10, ge=0, le=30)
    keyword: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    keyword_absent: bool = Field(default=False, description="down if the keyword IS in the body")
    json_path: Annotated[str, Field(max_length=256, pattern=JSON_PATH)] | None = Field(
        default=None, description="dotted path into a JSON body, e.g. $.checks.0.status")
    json_equals: JsonValue = Field(default=None, description=(
        f"the value json_path must hold (at most {MAX_JSON_EQUALS_BYTES} bytes as JSON)"))
    tls_skip_verify: bool = False
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=16_777_216,
                                description="read at most this much of the body")

    _headers = field_validator("headers")(classmethod(lambda cls, v: check_headers(v)))

    @field_validator("json_equals")
    @classmethod
    def _small_json_equals(cls, v: Any) -> Any:
        size = len(json.dumps(v, separators=(",", ":")))
        if size > MAX_JSON_EQUALS_BYTES:
            raise ValueError(f"json_equals may be at most {MAX_JSON_EQUALS_BYTES} bytes as JSON (got {size})")
        return v

    @model_validator(mode="after")
    def _paired(self) -> HttpOptions:
        if self.keyword_absent and self.keyword is None:
            raise ValueError("keyword_absent needs a keyword")
        if ("json_equals" in self.model_fields_set) != (self.json_path is not None):
            raise ValueError("json_path and json_equals go together")
        return self

    @model_serializer(mode="wrap")
    def _keep_json_equals(self, handler: Any) -> dict[str, Any]:
        """An expected null equals the default, and dumps that leave defaults out would
        drop it and leave json_path unpaired: keep it whenever json_path is set."""
        data = handler(self)
        if self.json_path is not None:
            data["json_equals"] = self.json_equals
        return data


def _us(start: float, end: float) -> int:
    return max(0, int((end - start) * 1_000_000))


def _timings(marks: SimpleNamespace, start: float, end: float) -> Timings:
    m = marks.__dict__
    t = Timings(total_us=_us(start, end))
    if "dns_start" in m and "dns_end" in m:
        t.dns_us = _us(m["dns_start"], m["dns_end"])
    if "tcp_end" in m:
        t.connect_us = _us(m["tcp_start"], m["tcp_end"])
        if "tls_end" in m and m.get("cert_der"):
            t.tls_us = _us(m["tcp_end"], m["tls_end"])
    if "headers" in m:
        t.ttfb_us = _us(m.get("sent", start), m["headers"])
    return t


def classify(exc: BaseException, marks: SimpleNamespace, timeout_ms: int) -> CheckResult | None:
    """Map a client exception to a failure kind; None for exceptions that are our bugs."""
    if isinstance(exc, LeanFailure):
        return CheckResult.failure(exc.kind, exc.message)
    cause = getattr(exc, "os_error", None)
    if isinstance(exc, BlockedTarget) or isinstance(cause, BlockedTarget):
        return CheckResult.failure(ErrorKind.blocked_target, str(cause or exc))
    if isinstance(exc, aiohttp.ClientSSLError):
        return CheckResult.failure(ErrorKind.tls, str(exc))
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return CheckResult.failure(ErrorKind.dns, str(exc))
    if isinstance(exc, aiohttp.ClientConnectorError):
        kind = ErrorKind.refused if isinstance(cause, ConnectionRefusedError) else ErrorKind.unreachable
        return CheckResult.failure(kind, str(exc))
    if isinstance(exc, aiohttp.TooManyRedirects):
        return CheckResult.failure(ErrorKind.too_many_redirects, f"more than {len(exc.history)} redirects")
    if isinstance(exc, (aiohttp.ServerDisconnectedError, ConnectionResetError, aiohttp.ClientOSError)):
        return CheckResult.failure(ErrorKind.reset, str(exc) or "connection reset by the server")
    if isinstance(exc, (aiohttp.ClientResponseError, aiohttp.ClientPayloadError, aiohttp.InvalidURL,
                        aiohttp.NonHttpUrlClientError)):
        return CheckResult.failure(ErrorKind.protocol, str(exc) or type(exc).__name__)
    if isinstance(exc, TimeoutError):
        connected = "tls_end" in marks.__dict__
        kind = ErrorKind.read_timeout if connected else ErrorKind.connect_timeout
        return CheckResult.failure(kind, f"no answer within {timeout_ms} ms")
    return None


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """At most ``cap`` bytes of the body, and whether there was more."""
    chunks, size = [], 0
    while size <= cap:
        chunk = await resp.content.read(cap + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    return data[:cap], len(data) > cap


def _assert_body(opts: HttpOptions, data: bytes, truncated: bool) -> CheckResult | None:
    if opts.keyword is not None:
        failure = body_assert.check_keyword(data, truncated, opts.keyword, opts.keyword_absent)
        if failure:
            return failure
    if opts.json_path is not None:
        return body_assert.check_json(data, truncated, opts.json_path, opts.json_equals)
    return None


async def _request(spec: MonitorSpec, opts: HttpOptions, ctx: CheckContext, marks: SimpleNamespace
                   ) -> tuple[int, bytes, bool, int]:
    """(status, body up to the cap, whether there was more, redirects followed) by aiohttp."""
    token = current_marks.set(marks)
    try:
        async with ctx.http.request(
            opts.method, spec.target, headers=opts.headers or None,
            data=opts.body.encode() if opts.body is not None else None,
            allow_redirects=opts.max_redirects > 0, max_redirects=opts.max_redirects,
            ssl=False if opts.tls_skip_verify else (ctx.tls_context or True),
            trace_request_ctx=marks, timeout=aiohttp.ClientTimeout(total=spec.timeout_ms / 1000),
        ) as resp:
            data, truncated = await _read_capped(resp, opts.max_body_bytes)
            return resp.status, data, truncated, len(resp.history)
    finally:
        current_marks.reset(token)


async def check(spec: MonitorSpec, opts: HttpOptions, ctx: CheckContext) -> CheckResult:
    marks = SimpleNamespace()
    start = time.perf_counter()
    lean = ctx.http_lean
    try:
        if lean is not None and lean.covers(spec.target):
            status, data, truncated, redirects = await lean.request(spec.target, opts, spec.timeout_ms / 1000, marks)
        else:
            status, data, truncated, redirects = await _request(spec, opts, ctx, marks)
    except Exception as exc:
        failure = classify(exc, marks, spec.timeout_ms)
        if failure is None:
            raise
        failure.timings = _timings(marks, start, time.perf_counter())
        return failure
    timings = _timings(marks, start, time.perf_counter())
    ok_status = status in opts.status_codes if opts.status_codes else 200 <= status < 400
    failure = (CheckResult.failure(ErrorKind.http_status, f"unexpected status {status}")
               if not ok_status else _assert_body(opts, data, truncated))
    result = failure or CheckResult(up=True)
    result.status_code, result.timings = status, timings
    # The certificate of the last hop (the connection layer reads it during the handshake).
    if getattr(marks, "cert_der", None):
        result.detail["certificate"] = from_der(marks.cert_der).as_dict()
    if redirects:
        result.detail["redirects"] = redirects
    return result


def parse_target(target: str) -> SplitResult:
    parts = urlsplit(target)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError("an http monitor's target must be an http:// or https:// URL with a host")
    if not valid_port(parts):
        raise ValueError("an http monitor's target port must be a number from 1 to 65535")
    return parts


def destinations(target: str, opts: HttpOptions) -> list[Destination]:
    parts = urlsplit(target)
    return [Destination(parts.hostname or "", default_port(parts))]


def _json_value(text: str) -> Any:
    """--json-equals takes JSON (42, true, "ok", null); anything else is taken as a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for h in values:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header must be NAME:VALUE, got {h!r}")
        headers[name.strip()] = value.strip()
    return headers


KIND = Kind(
    check=check, options=HttpOptions, parse_target=parse_target, schemes=SCHEMES, usage="https://...",
    destinations=destinations, flags=(
        flag("--method", "method", "request method", type=str.upper),
        flag("--header", "headers", "request header (repeatable)", _headers, action="append", metavar="NAME:VALUE"),
        flag("--body", "body", "request body"),
        flag("--status", "status_codes", "accepted status (repeatable; default 2xx/3xx)",
             action="append", type=int, metavar="CODE"),
        flag("--keyword", "keyword", "text the body must contain"),
        flag("--keyword-absent", "keyword_absent", "the keyword must NOT be in the body",
             action="store_true", default=None),
        flag("--json-path", "json_path", "dotted path into a JSON body, e.g. $.checks.0.status"),
        flag("--json-equals", "json_equals", "the value at --json-path (JSON, or a plain string)",
             type=_json_value, metavar="JSON"),
        flag("--max-redirects", "max_redirects", "redirects to follow", type=int),
        flag("--max-body-bytes", "max_body_bytes", "read at most this much body", type=int),
        flag("--insecure", "tls_skip_verify", "do not verify the certificate chain and name",
             action="store_true", default=None),
    ))
