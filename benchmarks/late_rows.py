"""What one late row costs the aggregator: re-rolling its (monitor, hour) against re-rolling
the whole hour for every monitor (how late rows were absorbed before rollups were dirtied
per monitor), both measured in the same run on the same database.

    python -m benchmarks.late_rows            # 10,000 monitors x 2 regions, one-minute checks
    python -m benchmarks.late_rows --quick    # 10,000 monitors x 1 region (under a minute)

Seeds a few hours of history for several accounts' monitors (`vigil seed`), rolls it up, then
repeatedly inserts one late result into a rolled hour and times the aggregator's re-roll
(late_row_reroll_ms). The baseline re-rolls that same hour for all monitors
(whole_hour_reroll_ms), which is what a late row cost when dirtiness was per hour."""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta

import psycopg

from aggregator.rollup import HOUR, _roll_hours, reroll_dirty, roll
from aggregator.seed import SeedPlan, seed
from benchmarks.harness import emit, median, throwaway_postgres
from vigil.db import open_pool
from vigil.migrate import migrate
from vigil.settings import Settings

ACCOUNTS = 4


async def measure(dsn: str, monitor_ids: list[int], repeats: int) -> dict:
    pool = await open_pool(dsn, max_size=2)
    try:
        await roll(pool)
        async with pool.connection() as conn:
            await conn.set_autocommit(True)
            hour = (await (await conn.execute(
                "SELECT rolled_until FROM rollup_state WHERE width = '1 hour'")).fetchone())[0] - HOUR
            rows_in_hour = (await (await conn.execute(
                "SELECT count(*) FROM rollup_1h WHERE bucket = %s", (hour,))).fetchone())[0]
            late, whole = [], []
            for i in range(repeats):
                monitor = monitor_ids[(i * 7919) % len(monitor_ids)]
                await conn.execute(
                    "INSERT INTO check_results (time, monitor_id, region_id, latency_us, up) "
                    "SELECT %s, %s, min(id), 1234, true FROM regions",
                    (hour + timedelta(seconds=7 + i), monitor))
                t0 = time.perf_counter()
                pairs = await reroll_dirty(conn)
                late.append((time.perf_counter() - t0) * 1000)
                assert pairs == 1, pairs
                t0 = time.perf_counter()
                async with conn.transaction():
                    await _roll_hours(conn, hour, hour + HOUR)
                whole.append((time.perf_counter() - t0) * 1000)
    finally:
        await pool.close()
    return {"late_row_reroll_ms": median(late), "whole_hour_reroll_ms": median(whole),
            "rollup_rows_in_hour": rows_in_hour}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10,000 monitors, 1 region (under a minute)")
    ap.add_argument("--monitors", type=int, default=10_000, help="monitors in the hour, over all accounts")
    ap.add_argument("--regions", help="comma-separated region names")
    ap.add_argument("--repeats", type=int, help="late rows timed")
    args = ap.parse_args()
    regions = (args.regions or ("eu" if args.quick else "eu,us")).split(",")
    repeats = args.repeats or (3 if args.quick else 7)
    with throwaway_postgres(durable=False) as pg:
        migrate(Settings(database_url=pg.dsn))
        t0 = time.perf_counter()
        ids, rows = [], 0
        for a in range(ACCOUNTS):
            out = seed(pg.dsn, SeedPlan(monitors=args.monitors // ACCOUNTS, days=2.5 / 24, regions=regions,
                                        account=f"account-{a}", seed=a), progress=False)
            ids += list(range(out["first_monitor_id"], out["first_monitor_id"] + out["monitors"]))
            rows += out["rows"]
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE check_results")
        seed_s = time.perf_counter() - t0
        figures = asyncio.run(measure(pg.dsn, ids, repeats))
    print(f"seeded {rows:,} rows for {len(ids):,} monitors in {ACCOUNTS} accounts x {len(regions)} region(s) "
          f"in {seed_s:.1f} s; the hour holds {figures['rollup_rows_in_hour']:,} rollup rows")
    print(f"one late row: re-roll of its (monitor, hour) {figures['late_row_reroll_ms']:.2f} ms; "
          f"the whole hour for every monitor {figures['whole_hour_reroll_ms']:.0f} ms (medians of {repeats})")
    emit({
        "monitors": len(ids),
        "regions": len(regions),
        "rows": rows,
        "late_row_reroll_ms": round(figures["late_row_reroll_ms"], 3),
        "whole_hour_reroll_ms": round(figures["whole_hour_reroll_ms"], 1),
        "speedup_vs_whole_hour": round(figures["whole_hour_reroll_ms"] / figures["late_row_reroll_ms"], 1),
    })


if __name__ == "__main__":
    main()
