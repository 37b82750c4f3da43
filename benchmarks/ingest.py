"""Ingest benchmark: rows/s through the worker's ResultWriter versus raw binary COPY of the
same rows into the same hypertable, in one run.

    python -m benchmarks.ingest            # 1M rows
    python -m benchmarks.ingest --quick    # 200k rows

The writer is fed as the worker feeds it: many concurrent jobs of ``BATCH`` rows each,
``write()`` returning once the rows are committed; it gathers them and flushes by size
(``writer_flush_rows``) or age. The baseline COPYs the same rows in batches of the same
size, one transaction each, from one connection: the best the writer could do. Each side
writes into the freshly truncated hypertable; rounds alternate so neither side always
meets a warm or a cold table."""

from __future__ import annotations

import argparse
import asyncio
import time

import psycopg

from benchmarks.harness import emit, median, throwaway_postgres
from benchmarks.storage import make_rows
from ingest.writer import ResultWriter, copy_rows
from vigil.db import open_pool
from vigil.migrate import migrate
from vigil.settings import Settings

BATCH = 200          # rows per job (VIGIL_BATCH_SIZE)
JOBS_IN_FLIGHT = 16  # jobs per worker (VIGIL_WORKER_MAX_JOBS)


async def truncate(dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute("TRUNCATE check_results")
        await conn.execute("CHECKPOINT")


async def raw_copy(dsn: str, rows: list[tuple], flush_rows: int) -> float:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        started = time.perf_counter()
        for i in range(0, len(rows), flush_rows):
            async with conn.transaction():
                await copy_rows(conn, rows[i:i + flush_rows])
        return time.perf_counter() - started


async def through_writer(dsn: str, rows: list[tuple], settings: Settings) -> tuple[float, int]:
    pool = await open_pool(dsn, max_size=4)
    writer = ResultWriter(pool, settings.writer_flush_rows, settings.writer_flush_seconds,
                          settings.writer_buffer_rows)
    writer.start()
    jobs = [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)]
    sem = asyncio.Semaphore(JOBS_IN_FLIGHT * 8)  # jobs of a few workers' worth in flight

    async def job(batch: list[tuple]) -> None:
        async with sem:
            await writer.write(batch)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(job(b) for b in jobs))
        elapsed = time.perf_counter() - started
    finally:
        await writer.close()
        await pool.close()
    assert writer.written_rows == len(rows), (writer.written_rows, len(rows))
    return elapsed, writer.flushes


async def main(quick: bool) -> None:
    n_rows = 200_000 if quick else 1_000_000
    monitors = 1000
    rows = make_rows(monitors, n_rows // monitors)
    with throwaway_postgres(durable=True) as pg:
        settings = Settings(database_url=pg.dsn)
        migrate(settings)
        async with await psycopg.AsyncConnection.connect(pg.dsn, autocommit=True) as conn:
            await conn.execute("INSERT INTO regions (name) VALUES ('local') ON CONFLICT DO NOTHING")
        raw_s, writer_s, flush_sizes = [], [], []
        for rnd in range(3):
            order = ("writer", "raw") if rnd % 2 == 0 else ("raw", "writer")
            for side in order:
                await truncate(pg.dsn)
                if side == "raw":
                    raw_s.append(await raw_copy(pg.dsn, rows, round(median(flush_sizes))))
                else:
                    elapsed, flushes = await through_writer(pg.dsn, rows, settings)
                    writer_s.append(elapsed)
                    flush_sizes.append(n_rows / flushes)
                print(f"round {rnd + 1} {side:6s}: {n_rows / (raw_s if side == 'raw' else writer_s)[-1]:,.0f} rows/s",
                      flush=True)
    rows_per_s = n_rows / median(writer_s)
    raw_per_s = n_rows / median(raw_s)
    print(f"ResultWriter: {rows_per_s:,.0f} rows/s; raw COPY: {raw_per_s:,.0f} rows/s; "
          f"ratio {rows_per_s / raw_per_s:.2f} (goal >= 0.8)")
    emit({"benchmark": "ingest", "rows": n_rows, "batch_rows_per_job": BATCH,
          "mean_flush_rows": round(median(flush_sizes)), "rows_per_s": round(rows_per_s),
          "raw_copy_rows_per_s": round(raw_per_s), "ratio_vs_raw_copy": round(rows_per_s / raw_per_s, 3)})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200k rows instead of 1M")
    asyncio.run(main(parser.parse_args().quick))
