import asyncio
from datetime import UTC, datetime

import psycopg

from ingest.worker import run_batch, shutdown, startup
from ingest.writer import ResultWriter
from vigil.db import open_pool


def _row(slot: int, monitor: int, region: int = 1, up: bool = True):
    return (datetime.fromtimestamp(slot, UTC), monitor, 1500, 300, 900, 12, region, 0, 200, 1, up)


async def test_rewriting_the_same_rows_stores_them_once(settings):
    pool = await open_pool(settings.database_url)
    writer = ResultWriter(pool, flush_seconds=0.01)
    writer.start()
    try:
        rows = [_row(1_700_000_000 + s, m) for s in range(0, 600, 60) for m in range(1, 51)]
        await writer.write(rows)
        await writer.write(rows[:100])  # a retried job repeats part of a batch
        await writer.write(rows[:10] + [_row(1_700_009_999, 1)])  # repeats plus one new row
    finally:
        await writer.close()
        await pool.close()
    with psycopg.connect(settings.database_url) as conn:
        n, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (monitor_id, region_id, time)) FROM check_results").fetchone()
    assert n == distinct == 501


async def test_concurrent_writes_are_flushed_together_and_all_stored(settings):
    pool = await open_pool(settings.database_url)
    writer = ResultWriter(pool, flush_rows=10_000, flush_seconds=0.05)
    writer.start()
    try:
        await asyncio.gather(*(writer.write([_row(1_700_000_000, m * 100 + i) for i in range(100)])
                               for m in range(20)))
    finally:
        await writer.close()
        await pool.close()
    assert writer.written_rows == 2000
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM check_results").fetchone()[0] == 2000


async def test_worker_batch_run_twice_writes_each_slot_once(settings, http_target):
    ctx = {"settings": settings}
    await startup(ctx)
    try:
        monitors = [(i, "http", f"{http_target}/ok", 2000, {}, 1) for i in range(1, 21)]
        assert await run_batch(ctx, 1_700_000_040, 1, monitors) == 20
        assert await run_batch(ctx, 1_700_000_040, 1, monitors) == 20  # the queue retried the job
    finally:
        await shutdown(ctx)
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("SELECT monitor_id, up, status_code FROM check_results ORDER BY 1").fetchall()
    assert rows == [(i, True, 200) for i in range(1, 21)]
