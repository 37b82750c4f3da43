"""The rules for the request headers a tenant may set on an HTTP check, applied where the
API validates a monitor and again where the check builds its request.

Values follow what the HTTP client writes (aiohttp refuses every control character but
HTAB when it serialises headers) and go further: C1 controls and the Unicode line and
paragraph separators are refused too, since servers and proxies disagree on whether they
end a line. Names that frame the request or steer the connection are the client's to set:
a tenant-set Host, Content-Length or Transfer-Encoding would let one check smuggle a
second request past the target's front proxy."""

from __future__ import annotations

import re

MAX_HEADERS = 32
MAX_HEADER_BYTES = 8192  # names and values together, UTF-8: a common server's header limit
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_FORBIDDEN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
RESERVED = frozenset({"host", "transfer-encoding", "content-length", "connection", "keep-alive",
                      "upgrade", "te", "trailer"})


def check_name(name: str) -> str:
    """The name, or ValueError saying what is wrong with it."""
    if not TOKEN.match(name):
        raise ValueError(f"header name {name[:64]!r} is not a valid HTTP token")
    lowered = name.lower()
    if lowered in RESERVED or lowered.startswith("proxy-"):
        raise ValueError(f"header {name!r} is set by the HTTP client and may not be given")
    return name


def check_value(value: str) -> str:
    """The value, or ValueError naming the first forbidden character."""
    if m := _FORBIDDEN_VALUE.search(value):
        raise ValueError(f"a header value may not hold control or line-break characters "
                         f"(U+{ord(m.group()):04X} at position {m.start()})")
    return value


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    if len(headers) > MAX_HEADERS:
        raise ValueError(f"at most {MAX_HEADERS} headers may be given (got {len(headers)})")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in headers.items())
    if size > MAX_HEADER_BYTES:
        raise ValueError(f"headers may total at most {MAX_HEADER_BYTES} bytes (got {size})")
    seen: set[str] = set()
    for name, value in headers.items():
        check_name(name)
        check_value(value)
        if name.lower() in seen:
            raise ValueError(f"header {name!r} is given twice (names are case-insensitive)")
        seen.add(name.lower())
    return headers
