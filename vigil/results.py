"""The layout of one check_results row, for everything that writes rows: the worker's
writer (binary COPY from Python tuples) and the history generator (binary COPY from numpy
arrays). One table, so the column order, the PostgreSQL types and the binary widths cannot
drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

# column, Python type, PostgreSQL type, binary COPY field (big-endian numpy type)
LAYOUT = (
    ("time", datetime, "timestamptz", ">i8"),
    ("monitor_id", int, "int4", ">i4"),
    ("latency_us", int, "int4", ">i4"),
    ("connect_us", int, "int4", ">i4"),
    ("ttfb_us", int, "int4", ">i4"),
    ("lateness_ms", int, "int4", ">i4"),
    ("region_id", int, "int2", ">i2"),
    ("error_kind", int, "int2", ">i2"),
    ("status_code", int, "int2", ">i2"),
    ("attempts", int, "int2", ">i2"),
    ("up", bool, "bool", ">i1"),
)
COLUMNS = tuple(name for name, *_ in LAYOUT)
PG_TYPES = tuple(pg for _, _, pg, _ in LAYOUT)
COPY_FIELDS = [(name, binary) for name, _, _, binary in LAYOUT]

# One result row, fields by name (a tuple, so COPY writes it as it is).
ResultRow = NamedTuple("ResultRow", [(name, py) for name, py, *_ in LAYOUT])


def copy_statement(table: str = "check_results") -> str:
    return f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
