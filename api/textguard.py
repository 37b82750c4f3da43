"""PostgreSQL text and jsonb cannot hold NUL (U+0000): a request carrying one is refused
while validating, naming the field, instead of failing at the database."""

from __future__ import annotations

from typing import Any


def nul_field(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (value or key) in ``value`` holding a NUL."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return where
            if found := nul_field(item, where):
                return found
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if found := nul_field(item, f"{path}.{i}" if path else str(i)):
                return found
    return None


def refuse_nul(data: Any) -> Any:
    """A pydantic ``mode="before"`` model check: ValueError naming the field with a NUL."""
    if found := nul_field(data):
        raise ValueError(f"{found} must not contain NUL (\\u0000) characters")
    return data
