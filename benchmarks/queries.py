"""Percentile + uptime queries: rollups with histograms against the exact answer from raw rows.

    python -m benchmarks.queries            # 100 monitors x 30 days x 2 regions, 1-minute checks
    python -m benchmarks.queries --quick    # 20 monitors x 30 days x 1 region (under a minute)

Seeds history with `vigil seed` (lognormal, bimodal and Pareto latencies, incidents, missed
slots), runs the aggregator once (aggregate_s_per_million_rows), then for single monitors
times the 30-day query through aggregator.windows.window_stats plus the p50/p95/p99/p99.9
quantiles (the path the stats API uses), and in the same run the exact answer from raw
rows (percentile_cont and the quorum rule in SQL). The baseline is that exact query.

    python -m benchmarks.queries --quick --compare   # also the pre-0013 path, interleaved

--compare times the window path as it was before sql/0013_window_speed.sql in the same
loop (benchmarks/queries_before.py), so both see the same load. Every run also prints
where the time goes: a bare round trip (SELECT 1) and vigil_window_parts alone on the
server (count(*) of it, nothing sent back)."""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

import psycopg

from aggregator import histogram
from aggregator.history import SHAPES
from aggregator.rollup import roll
from aggregator.seed import SeedPlan, seed
from aggregator.windows import window_stats
from benchmarks import queries_before
from benchmarks.harness import emit, median, throwaway_postgres
from vigil.db import open_pool
from vigil.migrate import migrate
from vigil.settings import Settings

QS = (0.5, 0.95, 0.99, 0.999)

EXACT = """
WITH r AS (
    SELECT time, up, vigil_result_down(up, error_kind) AS down, latency_us FROM check_results
    WHERE monitor_id = %(m)s AND time >= %(f)s AND time < %(t)s),
slot AS (SELECT time, count(*) FILTER (WHERE up) AS n_up, count(*) FILTER (WHERE down) AS n_down
         FROM r GROUP BY time),
k AS (SELECT region_quorum AS k FROM monitors WHERE id = %(m)s)
SELECT (SELECT percentile_cont(%(qs)s::float8[]) WITHIN GROUP (ORDER BY latency_us) FROM r WHERE up),
       (SELECT count(*) FILTER (WHERE n_up + n_down >= k AND n_down < k) FROM slot, k),
       (SELECT count(*) FILTER (WHERE n_down >= k) FROM slot, k)
"""


SERVER_ONLY = "SELECT count(*) FROM vigil_window_parts(%(ids)s::integer[], %(f)s, %(t)s, false)"


async def _timed(coro) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = await coro
    return (time.perf_counter() - t0) * 1000, result


async def _ours(conn: psycopg.AsyncConnection, m: int, from_ts: datetime, to_ts: datetime) -> tuple:
    stats = (await window_stats(conn, [m], from_ts, to_ts))[0]
    return stats, histogram.quantiles(stats["hist"], QS)


async def _before(conn: psycopg.AsyncConnection, m: int, from_ts: datetime, to_ts: datetime) -> tuple:
    stats = await queries_before.window_stats(conn, m, from_ts, to_ts)
    return stats, histogram.quantiles(stats["hist"], QS)


async def _fetch(conn: psycopg.AsyncConnection, query: str, params: dict | None) -> tuple:
    return await (await conn.execute(query, params)).fetchall()


async def measure(dsn: str, monitor_ids: list[int], first_id: int, repeats: int, compare: bool) -> dict:
    to_ts = datetime.now(UTC)
    from_ts = to_ts - timedelta(days=30)
    times: dict[str, list[float]] = {k: [] for k in ("ours", "before", "exact", "round_trip", "server")}
    errors, uptime_mismatch, before_mismatch = {s: 0.0 for s in SHAPES}, 0, 0
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        for m in monitor_ids:  # warm the plan caches and buffers for every path
            await _ours(conn, m, from_ts, to_ts)
            if compare:
                await _before(conn, m, from_ts, to_ts)
        for m in monitor_ids:
            params = {"ids": [m], "f": from_ts, "t": to_ts}
            for _ in range(repeats):
                ms, (stats, got) = await _timed(_ours(conn, m, from_ts, to_ts))
                times["ours"].append(ms)
                if compare:
                    ms, (old, old_got) = await _timed(_before(conn, m, from_ts, to_ts))
                    times["before"].append(ms)
                    before_mismatch += (old_got, old["up_slots"], old["down_slots"]) != \
                        (got, stats["up_slots"], stats["down_slots"])
                times["round_trip"].append((await _timed(_fetch(conn, "SELECT 1", None)))[0])
                times["server"].append((await _timed(_fetch(conn, SERVER_ONLY, params)))[0])
            ms, rows = await _timed(_fetch(conn, EXACT, {"m": m, "f": from_ts, "t": to_ts, "qs": list(QS)}))
            times["exact"].append(ms)
            want, up, down = rows[0]
            shape = SHAPES[(m - first_id) % 3]
            errors[shape] = max(errors[shape], *(abs(g - w) / w for g, w in zip(got, want, strict=True)))
            uptime_mismatch += (stats["up_slots"], stats["down_slots"]) != (up, down)
    return {**{f"{k}_ms_median": median(v) for k, v in times.items()}, "errors": errors,
            "uptime_mismatches": uptime_mismatch, "before_mismatches": before_mismatch,
            "queries": len(times["ours"])}


async def aggregate(dsn: str) -> tuple[float, int]:
    pool = await open_pool(dsn, max_size=2)
    try:
        t0 = time.perf_counter()
        hours = await roll(pool)
        return time.perf_counter() - t0, hours
    finally:
        await pool.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="20 monitors, 1 region (under a minute)")
    ap.add_argument("--monitors", type=int)
    ap.add_argument("--regions", help="comma-separated region names")
    ap.add_argument("--repeats", type=int, default=5, help="timed queries per monitor")
    ap.add_argument("--compare", action="store_true", help="also time the pre-0013 window path, interleaved")
    args = ap.parse_args()
    monitors = args.monitors or (20 if args.quick else 100)
    regions = (args.regions or ("eu" if args.quick else "eu,us")).split(",")
    with throwaway_postgres(durable=False) as pg:
        migrate(Settings(database_url=pg.dsn))
        t0 = time.perf_counter()
        seeded = seed(pg.dsn, SeedPlan(monitors=monitors, days=30, regions=regions, seed=7), progress=True)
        seed_s = time.perf_counter() - t0
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE check_results")
        agg_s, hours = asyncio.run(aggregate(pg.dsn))
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE rollup_1h")
            conn.execute("VACUUM ANALYZE rollup_1d")
            if args.compare:
                queries_before.install(conn)
        first = seeded["first_monitor_id"]
        ids = list(range(first, first + min(monitors, 30)))
        figures = asyncio.run(measure(pg.dsn, ids, first, args.repeats, args.compare))
    rows = seeded["rows"]
    print(f"seeded {rows:,} rows ({monitors} monitors x 30 days x {len(regions)} region(s)) in {seed_s:.1f} s; "
          f"aggregated {hours} hours in {agg_s:.1f} s", flush=True)
    print(f"30-day p50/p95/p99/p99.9 + uptime, one monitor: rollups {figures['ours_ms_median']:.2f} ms, "
          f"exact {figures['exact_ms_median']:.2f} ms (medians of {figures['queries']} / {len(ids)} queries)")
    print(f"where it goes: round trip (SELECT 1) {figures['round_trip_ms_median']:.2f} ms, "
          f"vigil_window_parts on the server {figures['server_ms_median']:.2f} ms, the rest is fetching "
          "the pieces and merging them in Python")
    compared = {}
    if args.compare:
        compared = {"before_ms_median": round(figures["before_ms_median"], 3),
                    "speedup_vs_before": round(figures["before_ms_median"] / figures["ours_ms_median"], 2),
                    "before_speedup_vs_exact": round(figures["exact_ms_median"] / figures["before_ms_median"], 2),
                    "before_mismatches": figures["before_mismatches"]}
        print(f"before 0013 (same loop): {figures['before_ms_median']:.2f} ms, "
              f"{compared['speedup_vs_before']}x slower than now; answers differ in "
              f"{figures['before_mismatches']} queries")
    print("max relative error by latency shape: "
          + ", ".join(f"{s} {e:.4%}" for s, e in figures["errors"].items()))
    emit({
        "rows": rows,
        "monitors": monitors,
        "regions": len(regions),
        "query_ms_median": round(figures["ours_ms_median"], 3),
        "exact_ms_median": round(figures["exact_ms_median"], 3),
        "speedup_vs_exact": round(figures["exact_ms_median"] / figures["ours_ms_median"], 2),
        "round_trip_ms_median": round(figures["round_trip_ms_median"], 3),
        "server_ms_median": round(figures["server_ms_median"], 3),
        **compared,
        "max_rel_error": round(max(figures["errors"].values()), 5),
        **{f"max_rel_error_{s}": round(e, 5) for s, e in figures["errors"].items()},
        "uptime_mismatches": figures["uptime_mismatches"],
        "aggregate_s_per_million_rows": round(agg_s / (rows / 1e6), 2),
        "seed_rows_per_s": round(rows / seed_s),
    })


if __name__ == "__main__":
    main()
