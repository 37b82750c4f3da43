"""Assertions on an HTTP response body: a keyword present or absent, and one JSON value
reached by a dotted path. The body may have been cut at the size cap; an assertion that
cannot be decided on the part read fails as body_too_large, never as a false up or down.

JSON paths are a deliberately tiny subset: dot-separated keys, with integer segments
indexing arrays, and an optional leading ``$.``: ``status``, ``$.checks.0.state``,
``data.items.2.id``. Keys containing dots cannot be addressed."""

from __future__ import annotations

import json
from typing import Any

from ingest.checks.base import CheckResult
from vigil.constants import ErrorKind

_MISSING = object()


def json_path_get(document: Any, path: str) -> Any:
    """The value at ``path``, or _MISSING."""
    node = document
    for segment in path.removeprefix("$.").split("."):
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.lstrip("-").isdigit() and -len(node) <= int(segment) < len(node):
            node = node[int(segment)]
        else:
            return _MISSING
    return node


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1 (Python's True == 1 would say it is)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def check_keyword(body: bytes, truncated: bool, keyword: str, absent: bool) -> CheckResult | None:
    found = keyword.encode() in body
    if absent and found:
        return CheckResult.failure(ErrorKind.assertion, f"forbidden keyword {keyword!r} found in the body")
    if truncated and not found:
        return CheckResult.failure(ErrorKind.body_too_large,
                                   f"keyword {keyword!r} not in the first {len(body)} bytes; the body is larger")
    if not absent and not found:
        return CheckResult.failure(ErrorKind.assertion, f"keyword {keyword!r} not found in the body")
    return None


def check_json(body: bytes, truncated: bool, path: str, expected: Any) -> CheckResult | None:
    if truncated:
        return CheckResult.failure(ErrorKind.body_too_large,
                                   f"the JSON body is larger than {len(body)} bytes, the size cap")
    try:
        document = json.loads(body)
    except ValueError as exc:
        return CheckResult.failure(ErrorKind.assertion, f"body is not JSON: {exc}")
    value = json_path_get(document, path)
    if value is _MISSING:
        return CheckResult.failure(ErrorKind.assertion, f"JSON path {path!r} not found")
    if not _json_equal(value, expected):
        return CheckResult.failure(ErrorKind.assertion,
                                   f"JSON path {path!r} is {json.dumps(value)[:200]}, expected {json.dumps(expected)[:200]}")
    return None
