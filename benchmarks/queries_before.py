"""The window path as it was before sql/0013_window_speed.sql, for `benchmarks.queries
--compare`: the first vigil_window_parts (benchmarks/window_parts_before.sql, created in the
benchmark's throwaway database as vigil_window_parts_0003) and the pieces fetched as text
into dicts, merged as before."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg.rows import dict_row

from aggregator import histogram
from aggregator.windows import COUNTS, derive

WINDOW_PARTS_BEFORE = Path(__file__).resolve().parent / "window_parts_before.sql"


def install(conn: psycopg.Connection) -> None:
    """Create the first vigil_window_parts as vigil_window_parts_0003 (throwaway databases only)."""
    text = WINDOW_PARTS_BEFORE.read_text()
    conn.execute(text.replace("CREATE FUNCTION vigil_window_parts(", "CREATE FUNCTION vigil_window_parts_0003(", 1))


async def window_stats(conn: psycopg.AsyncConnection, monitor_id: int, from_ts: datetime,
                       to_ts: datetime) -> dict[str, Any]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT * FROM vigil_window_parts_0003(%(ids)s::integer[], %(f)s, %(t)s, false)",
                      {"ids": [monitor_id], "f": from_ts, "t": to_ts})
    rows = await cur.fetchall()
    merged: dict[str, Any] = defaultdict(int, monitor_id=monitor_id)
    for c in COUNTS:
        merged[c] = sum(r[c] for r in rows)
    mins = [r["latency_min_us"] for r in rows if r["latency_min_us"] is not None]
    maxs = [r["latency_max_us"] for r in rows if r["latency_max_us"] is not None]
    merged["latency_min_us"] = min(mins) if mins else None
    merged["latency_max_us"] = max(maxs) if maxs else None
    merged["hist"] = histogram.merge(np.asarray(r["hist"], dtype=np.int64) for r in rows)
    return derive(dict(merged))
