"""Storage layout benchmark: bytes per check_results row (heap + indexes) and COPY ingest
rate, for several hash-partition counts, plus a per-monitor read, all in one run.

    python -m benchmarks.storage            # 1M rows per layout
    python -m benchmarks.storage --quick    # 200k rows per layout

Rows arrive as in production: slot by slot, every monitor once per slot, in batches.
The baseline is the layout with a single hash partition (no space partitioning in effect)."""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime

import numpy as np
import psycopg

from benchmarks.harness import emit, median, throwaway_postgres
from ingest.writer import copy_rows
from vigil.migrate import migrate
from vigil.settings import Settings

BATCH_ROWS = 5000
INTERVAL_S = 60
START = 1_790_000_000 - 1_790_000_000 % 86_400


def make_rows(monitors: int, slots: int, seed: int = 7) -> list[tuple]:
    rng = np.random.default_rng(seed)
    latency = rng.lognormal(mean=np.log(80_000), sigma=0.6, size=monitors * slots).astype(np.int64)
    up = rng.random(monitors * slots) > 0.002
    rows = []
    i = 0
    for s in range(slots):
        t = datetime.fromtimestamp(START + s * INTERVAL_S, UTC)
        for m in range(1, monitors + 1):
            lat = int(latency[i])
            ok = bool(up[i])
            rows.append((t, m, lat, lat // 5, lat // 2, random.randint(0, 900), 1,
                         0 if ok else 8, 200 if ok else 503, 1, ok))
            i += 1
    return rows


async def load(dsn: str, rows: list[tuple]) -> float:
    """COPY rows in production-sized batches, one transaction each; returns seconds."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await conn.execute("INSERT INTO regions (name) VALUES ('local') ON CONFLICT DO NOTHING")
        await conn.commit()
        started = time.perf_counter()
        for i in range(0, len(rows), BATCH_ROWS):
            async with conn.transaction():
                await copy_rows(conn, rows[i:i + BATCH_ROWS])
        return time.perf_counter() - started


def measure(dsn: str, monitors: int, n_rows: int) -> dict:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE check_results")
        table, index, toast, total = conn.execute(
            "SELECT table_bytes, index_bytes, toast_bytes, total_bytes "
            "FROM hypertable_detailed_size('check_results')").fetchone()
        chunks = conn.execute("SELECT count(*) FROM show_chunks('check_results')").fetchone()[0]
        rng = random.Random(3)
        end = datetime.fromtimestamp(START + (n_rows // monitors) * INTERVAL_S, UTC)
        times = []
        for _ in range(200):
            mid = rng.randint(1, monitors)
            t0 = time.perf_counter()
            conn.execute("SELECT time, up, latency_us FROM check_results WHERE monitor_id = %s "
                         "AND time <= %s ORDER BY time DESC LIMIT 100", (mid, end)).fetchall()
            times.append((time.perf_counter() - t0) * 1000)
        conn.execute("REINDEX TABLE check_results")
        packed = conn.execute("SELECT total_bytes FROM hypertable_detailed_size('check_results')").fetchone()[0]
    return {"bytes_per_row": round(total / n_rows, 1), "bytes_per_row_reindexed": round(packed / n_rows, 1), "heap_bytes_per_row": round((table + toast) / n_rows, 1),
            "index_bytes_per_row": round(index / n_rows, 1), "chunks": chunks,
            "last100_ms_median": round(median(times), 3)}


def run(n_rows: int, partitions: list[int]) -> dict:
    monitors = 1000
    rows = make_rows(monitors, n_rows // monitors)
    results = {}
    with throwaway_postgres() as pg:
        for parts in partitions:
            db = f"layout_p{parts}"
            with psycopg.connect(pg.dsn, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{db}"')
            dsn = pg.dsn.rsplit("/", 1)[0] + "/" + db
            migrate(Settings(database_url=dsn, hash_partitions=parts, chunk_interval="1 day"))
            seconds = asyncio.run(load(dsn, rows))
            figures = measure(dsn, monitors, len(rows))
            figures["rows_per_s"] = round(len(rows) / seconds)
            results[parts] = figures
            print(f"hash partitions {parts}: {figures}", flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="200k rows per layout (under a minute)")
    ap.add_argument("--rows", type=int, help="rows per layout (default 1,000,000)")
    args = ap.parse_args()
    n_rows = args.rows or (200_000 if args.quick else 1_000_000)
    partitions = [1, 2, 4]
    results = run(n_rows, partitions)
    base, chosen = results[1], results[2]
    emit({
        "rows": n_rows,
        "bytes_per_row": chosen["bytes_per_row"],
        "bytes_per_row_reindexed": chosen["bytes_per_row_reindexed"],
        "heap_bytes_per_row": chosen["heap_bytes_per_row"],
        "index_bytes_per_row": chosen["index_bytes_per_row"],
        "rows_per_s": chosen["rows_per_s"],
        "rows_per_s_1_partition": base["rows_per_s"],
        "rows_per_s_4_partitions": results[4]["rows_per_s"],
        "ingest_ratio_vs_1_partition": round(chosen["rows_per_s"] / base["rows_per_s"], 3),
        "last100_ms_median": chosen["last100_ms_median"],
        "last100_ratio_vs_1_partition": round(chosen["last100_ms_median"] / base["last100_ms_median"], 3),
    })


if __name__ == "__main__":
    main()
