"""The wire half of the lean HTTP client (ingest/checks/http_lean.py): the request head,
written as aiohttp writes it for the same check, and one response read by an asyncio
Protocol feeding httptools' parser (llhttp, the parser aiohttp's own C extension uses).

The response is read up to the body cap and no further; a body sent with Content-Encoding
gzip, deflate (or br, when the brotli module is installed, as aiohttp does) is decoded
before the cap applies, as aiohttp's auto-decompression does."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Callable
from typing import Any

import httptools
from yarl import URL

from vigil.constants import ErrorKind

try:  # aiohttp asks for br whenever it can decode it; so does this client
    import brotli
except ImportError:  # pragma: no cover - installed beside aiohttp here
    brotli = None

USER_AGENT = "Vigil/0.1 (+uptime check)"
ACCEPT_ENCODING = "gzip, deflate, br" if brotli else "gzip, deflate"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Methods aiohttp sends "Content-Length: 0" with when there is no body; the first three
# also get its default Content-Type.
_EMPTY_LENGTH = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_EMPTY_TYPE = frozenset({"POST", "PUT", "PATCH"})


class LeanFailure(Exception):
    """A failed exchange, already classified."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def request_head(method: str, url: URL, headers: dict[str, str], body: bytes | None) -> bytes:
    """The request line and headers, in aiohttp's order and with its defaults: the
    session's User-Agent, the check's headers (replacing a default of the same name in
    place), Accept, Accept-Encoding, Content-Length, Content-Type, Connection: close."""
    merged: dict[str, tuple[str, str]] = {"user-agent": ("User-Agent", USER_AGENT)}
    for name, value in headers.items():
        merged[name.lower()] = (name, value)
    merged.setdefault("accept", ("Accept", "*/*"))
    merged.setdefault("accept-encoding", ("Accept-Encoding", ACCEPT_ENCODING))
    if body is not None or method in _EMPTY_LENGTH:
        merged["content-length"] = ("Content-Length", str(len(body) if body else 0))
        if body is not None or method in _EMPTY_TYPE:
            merged.setdefault("content-type", ("Content-Type", "application/octet-stream"))
    merged["connection"] = ("Connection", "close")
    lines = [f"{method} {url.raw_path_qs} HTTP/1.1", f"Host: {url.host_port_subcomponent}"]
    lines.extend(f"{name}: {value}" for name, value in merged.values())
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8")


def _decoder(encoding: bytes) -> Callable[[bytes, int], bytes] | None:
    """A function (data, room) -> decoded bytes for a Content-Encoding, None for identity
    and encodings left as they are (aiohttp passes those through too)."""
    name = encoding.strip().lower()
    if name in (b"gzip", b"x-gzip"):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return lambda data, room: d.decompress(data, room)
    if name == b"deflate":
        state: list[Any] = []

        def inflate(data: bytes, room: int) -> bytes:
            if not state:  # zlib-wrapped as the RFC says, or raw deflate as some servers send
                state.append(zlib.decompressobj(zlib.MAX_WBITS if data[:1] and data[0] & 0x0F == 8
                                                else -zlib.MAX_WBITS))
            return state[0].decompress(data, room)
        return inflate
    if name == b"br" and brotli is not None:
        b = brotli.Decompressor()
        return lambda data, room: b.process(data)
    return None


class Exchange(asyncio.Protocol):
    """One request and its response on a fresh connection. ``done`` resolves when the
    response is complete (or cut at the cap), or fails with a LeanFailure."""

    def __init__(self, loop: asyncio.AbstractEventLoop, cap: int, head_only: bool, follow: bool) -> None:
        self.done: asyncio.Future[None] = loop.create_future()
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.cap = cap
        self.head_only = head_only  # a HEAD request: the response ends with its headers
        self.follow = follow  # redirects are followed: their bodies are not read
        self.status = 0
        self.headers_at = 0.0
        self.location: bytes | None = None
        self.framed = False  # Content-Length or chunked: the body's end is known, not the close
        self.decode: Callable[[bytes, int], bytes] | None = None
        self.chunks: list[bytes] = []
        self.size = 0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.done.done() or self.parser is None:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if not self.done.done():
                self._fail(ErrorKind.protocol, f"invalid HTTP response: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if not self.headers_at:
            reason = str(exc) if exc else ""
            self._fail(ErrorKind.reset, f"Server disconnected{': ' + reason if reason else ''}")
        elif self.framed:
            self._fail(ErrorKind.protocol, "Response payload is not completed")
        else:  # a body delimited by the end of the connection
            self._finish()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"location":
            if self.location is None:
                self.location = value
        elif name == b"content-encoding":
            self.decode = _decoder(value)
        elif name in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        if self.done.done():
            return
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # informational: the real answer follows
            self.location, self.framed, self.decode = None, False, None
            return
        self.status = status
        self.headers_at = time.perf_counter()
        if (self.head_only or status in (204, 304)
                or (self.follow and status in REDIRECTS and self.location is not None)):
            self._finish()

    def on_body(self, data: bytes) -> None:
        if self.done.done() or not self.headers_at:
            return
        room = self.cap + 1 - self.size
        if self.decode is not None:
            try:
                data = self.decode(data, room)
            except Exception as exc:  # zlib.error, brotli.error
                self._fail(ErrorKind.protocol, f"Can not decode content-encoding: {exc}")
                return
        chunk = data[:room]
        self.chunks.append(chunk)
        self.size += len(chunk)
        if self.size > self.cap:
            self._finish()

    def on_message_complete(self) -> None:
        if self.headers_at and not self.done.done():
            self._finish()

    # outcome
    def body(self) -> tuple[bytes, bool]:
        """The body read, at most ``cap`` bytes, and whether there was more."""
        data = b"".join(self.chunks)
        return data[:self.cap], len(data) > self.cap

    def _finish(self) -> None:
        self.done.set_result(None)
        self._close()

    def _fail(self, kind: ErrorKind, message: str) -> None:
        self.done.set_exception(LeanFailure(kind, message))
        self._close()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        # The parser refers to this protocol and the transport may too: leave no cycle for
        # the (deliberately rare) cyclic collections of a worker to find.
        self.parser = self.transport = None  # type: ignore[assignment]
