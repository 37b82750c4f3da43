"""Percentile + uptime queries: rollups with histograms against the exact answer from raw rows.

    python -m benchmarks.queries            # 100 monitors x 30 days x 2 regions, 1-minute checks
    python -m benchmarks.queries --quick    # 100 monitors x 30 days x 1 region, 2-minute checks

Seeds history with `vigil seed` (lognormal, bimodal and Pareto latencies, incidents, missed
slots), runs the aggregator once (aggregate_s_per_million_rows), then for single monitors
times the 30-day query through aggregator.windows.window_stats plus the p50/p95/p99/p99.9
quantiles (the path the stats API uses), and in the same run the exact answer from raw
rows (percentile_cont and the quorum rule in SQL). The baseline is that exact query.
The database also holds other accounts (benchmarks/tenants.py: monitors in dozens of
regions, maintenance windows) and late rows that leave dirty hours in the measured
monitors' windows. Before the 30 days of raw rows it holds the rollups of the year before,
as a database whose raw retention is 30 days does (the rolled days copied back in time,
hourly rollups for 90 days, the raw horizon at the first raw row). Besides the 30-day
window: the same question over 1 and 365 days (ms_1d, ms_365d: the cost should not follow
the window's length) and over the measured account's whole group of monitors
(group_ms_median against its exact answer from raw rows, which cover its last 30 days).

    python -m benchmarks.queries --quick --compare   # also the pre-0013 path, interleaved

--compare times the window path as it was before sql/0013_window_speed.sql in the same
loop (benchmarks/queries_before.py), so both see the same load. Every run also prints
where the time goes: a bare round trip (SELECT 1) and vigil_window_parts, the SQL callers'
path, alone on the server (count(*) of it, nothing sent back)."""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

import psycopg

from aggregator import histogram
from aggregator.history import SHAPES
from aggregator.rollup import roll, roll_blocks
from aggregator.seed import SeedPlan, seed
from aggregator.windows import window_stats
from benchmarks import queries_before
from benchmarks.harness import emit, median, throwaway_postgres
from benchmarks.tenants import OTHERS_FULL, OTHERS_QUICK, late_rows, others
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


EXACT_GROUP = """
WITH r AS (
    SELECT c.monitor_id, c.time, c.up, vigil_result_down(c.up, c.error_kind) AS down, c.latency_us
    FROM check_results c WHERE c.monitor_id = ANY (%(ids)s) AND c.time >= %(f)s AND c.time < %(t)s),
slot AS (SELECT r.monitor_id, r.time, count(*) FILTER (WHERE r.up) AS n_up, count(*) FILTER (WHERE r.down) AS n_down
         FROM r GROUP BY 1, 2)
SELECT (SELECT percentile_cont(%(qs)s::float8[]) WITHIN GROUP (ORDER BY latency_us) FROM r WHERE up),
       (SELECT count(*) FILTER (WHERE s.n_up + s.n_down >= m.region_quorum AND s.n_down < m.region_quorum)
        FROM slot s JOIN monitors m ON m.id = s.monitor_id),
       (SELECT count(*) FILTER (WHERE s.n_down >= m.region_quorum) FROM slot s JOIN monitors m ON m.id = s.monitor_id)
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


async def _group(conn: psycopg.AsyncConnection, ids: list[int], from_ts: datetime, to_ts: datetime) -> tuple:
    """The group answer: per-monitor window statistics merged, and the merged quantiles."""
    rows = await window_stats(conn, ids, from_ts, to_ts)
    return (histogram.quantiles(histogram.merge(r["hist"] for r in rows), QS),
            sum(r["up_slots"] for r in rows), sum(r["down_slots"] for r in rows))


async def measure_group(dsn: str, ids: list[int], repeats: int) -> dict:
    to_ts = datetime.now(UTC)
    from_ts = to_ts - timedelta(days=30)
    params = {"ids": ids, "f": from_ts, "t": to_ts, "qs": list(QS)}
    ours, exact = [], []
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await _group(conn, ids, from_ts, to_ts)
        for _ in range(repeats):
            ms, got = await _timed(_group(conn, ids, from_ts, to_ts))
            ours.append(ms)
        for _ in range(max(1, repeats // 5)):
            ms, rows = await _timed(_fetch(conn, EXACT_GROUP, params))
            exact.append(ms)
    want, up, down = rows[0]
    return {"group_ms_median": median(ours), "group_exact_ms_median": median(exact),
            "group_max_rel_error": max(abs(g - w) / w for g, w in zip(got[0], want, strict=True)),
            "group_uptime_mismatch": (got[1], got[2]) != (up, down)}


SQL_WINDOW = ("SELECT slots, up_slots, down_slots, missed_slots, checks, latency_sum_us, hist "
              "FROM vigil_window_stats(%(ids)s::integer[], %(f)s, %(t)s)")


async def measure_lengths(dsn: str, monitor_ids: list[int]) -> dict:
    """The single-monitor question over 1 and 365 days, interleaved; each answer is checked
    against the SQL callers' path (vigil_window_stats: days, hours and raw rows, no blocks)."""
    to_ts = datetime.now(UTC)
    times: dict[int, list[float]] = {1: [], 365: []}
    mismatches = 0
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        for m in monitor_ids:
            for days in times:
                stats, _ = await _ours(conn, m, to_ts - timedelta(days=days), to_ts)
                want = (await _fetch(conn, SQL_WINDOW, {"ids": [m], "f": to_ts - timedelta(days=days), "t": to_ts}))[0]
                mismatches += (*(stats[k] for k in ("slots", "up_slots", "down_slots", "missed_slots", "checks",
                                                    "latency_sum_us")), stats["hist"].tolist()) != tuple(want)
        for _ in range(3):
            for m in monitor_ids:
                for days in times:
                    times[days].append((await _timed(_ours(conn, m, to_ts - timedelta(days=days), to_ts)))[0])
    return {"ms_1d": median(times[1]), "ms_365d": median(times[365]), "length_mismatches": mismatches}


async def measure(dsn: str, monitor_ids: list[int], first_id: int, repeats: int, compare: bool) -> dict:
    to_ts = datetime.now(UTC)
    from_ts = to_ts - timedelta(days=30)
    times: dict[str, list[float]] = {k: [] for k in ("ours", "before", "exact", "round_trip", "server",
                                                     "ours_clean", "ours_dirty")}
    errors, uptime_mismatch, before_mismatch = {s: 0.0 for s in SHAPES}, 0, 0
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        for m in monitor_ids:  # warm the plan caches and buffers for every path
            await _ours(conn, m, from_ts, to_ts)
            if compare:
                await _before(conn, m, from_ts, to_ts)
        dirty = {r[0] for r in await _fetch(conn, "SELECT DISTINCT monitor_id FROM rollup_dirty WHERE bucket >= %(f)s",
                                            {"f": from_ts})}
        for m in monitor_ids:
            params = {"ids": [m], "f": from_ts, "t": to_ts}
            for _ in range(repeats):
                ms, (stats, got) = await _timed(_ours(conn, m, from_ts, to_ts))
                times["ours"].append(ms)
                times["ours_dirty" if m in dirty else "ours_clean"].append(ms)
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


ROLLUP_COLUMNS = ("monitor_id, region_id, slots, up_slots, down_slots, missed_slots, checks, latency_min_us, "
                  "latency_max_us, latency_sum_us, p50_us, p90_us, p95_us, p99_us, hist")


def older_history(dsn: str, days: int = 365, hourly_days: int = 90) -> int:
    """Rollups before the raw rows, back to ``days`` ago (daily) and ``hourly_days`` ago
    (hourly): the whole rolled days copied back in time, block by block, and the raw horizon
    set at the first raw row, as retention leaves a database. Returns the daily rows added."""
    added = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        first_raw = conn.execute("SELECT min(time) FROM check_results").fetchone()[0]
        first = conn.execute("SELECT min(bucket) FROM rollup_1d").fetchone()[0]  # a partial day
        first_day, last_day = first + timedelta(days=1), conn.execute("SELECT max(bucket) FROM rollup_1d").fetchone()[0]
        block = last_day - first_day  # whole rolled days, copied back to end where the first day starts
        for table, horizon in (("rollup_1d", days), ("rollup_1h", hourly_days)):
            oldest = first - timedelta(days=horizon - 30)
            end = first
            while end > oldest:
                n = conn.execute(
                    f"INSERT INTO {table} (bucket, {ROLLUP_COLUMNS}) SELECT bucket - %(shift)s, {ROLLUP_COLUMNS} "
                    f"FROM {table} WHERE bucket >= %(first)s AND bucket < %(last)s AND bucket - %(shift)s >= %(oldest)s",
                    {"shift": last_day - end, "first": first_day, "last": last_day, "oldest": oldest}).rowcount
                added += n if table == "rollup_1d" else 0
                end -= block
        conn.execute("INSERT INTO retention_horizons (source, kept_from) VALUES ('raw', %s), ('1 hour', %s) "
                     "ON CONFLICT (source) DO UPDATE SET kept_from = EXCLUDED.kept_from",
                     (first_raw, first - timedelta(days=hourly_days - 30)))
        # The weeks and four-week blocks of the whole year, rolled from the days again.
        conn.execute("TRUNCATE rollup_7d, rollup_28d")
        conn.execute("DELETE FROM rollup_state WHERE width IN ('7 days', '28 days')")
        daily = conn.execute("SELECT rolled_until FROM rollup_state WHERE width = '1 day'").fetchone()[0]
    asyncio.run(_roll_blocks(dsn, daily))
    return added


async def _roll_blocks(dsn: str, daily: datetime) -> None:
    async with await psycopg.AsyncConnection.connect(dsn) as conn, conn.transaction():
        await roll_blocks(conn, daily)


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
    ap.add_argument("--quick", action="store_true", help="100 monitors, 1 region, 2-minute checks (about a minute)")
    ap.add_argument("--monitors", type=int)
    ap.add_argument("--regions", help="comma-separated region names")
    ap.add_argument("--repeats", type=int, default=5, help="timed queries per monitor")
    ap.add_argument("--compare", action="store_true", help="also time the pre-0013 window path, interleaved")
    args = ap.parse_args()
    monitors = args.monitors or 100
    regions = (args.regions or ("eu" if args.quick else "eu,us")).split(",")
    interval_s = 120 if args.quick else 60
    with throwaway_postgres(durable=False) as pg:
        migrate(Settings(database_url=pg.dsn))
        t0 = time.perf_counter()
        seeded = seed(pg.dsn, SeedPlan(monitors=monitors, days=30, regions=regions, interval_s=interval_s, seed=7),
                      progress=True)
        tenants = others(pg.dsn, OTHERS_QUICK if args.quick else OTHERS_FULL, days=30)
        seed_s = time.perf_counter() - t0
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE check_results")
        agg_s, hours = asyncio.run(aggregate(pg.dsn))
        first = seeded["first_monitor_id"]
        dirty = late_rows(pg.dsn, list(range(first, first + monitors)), hours=monitors // 2)
        older = older_history(pg.dsn)
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE rollup_1h")
            conn.execute("VACUUM ANALYZE rollup_1d")
            if args.compare:
                queries_before.install(conn)
        ids = list(range(first, first + min(monitors, 30)))
        figures = asyncio.run(measure(pg.dsn, ids, first, args.repeats, args.compare))
        figures.update(asyncio.run(measure_lengths(pg.dsn, ids)))
        figures.update(asyncio.run(measure_group(pg.dsn, list(range(first, first + monitors)), args.repeats)))
    rows = seeded["rows"]
    print(f"seeded {rows:,} rows ({monitors} monitors x 30 days x {len(regions)} region(s)) and "
          f"{tenants['rows']:,} of {tenants['monitors']} other accounts' monitors in {tenants['regions']} regions "
          f"with {tenants['maintenance']} maintenance windows in {seed_s:.1f} s; aggregated {hours} hours in "
          f"{agg_s:.1f} s; {dirty} dirty hours; {older:,} daily rollups of the year before", flush=True)
    print(f"30-day p50/p95/p99/p99.9 + uptime, one monitor: rollups {figures['ours_ms_median']:.2f} ms "
          f"({figures['ours_clean_ms_median']:.2f} without late rows in the window, "
          f"{figures['ours_dirty_ms_median']:.2f} with), "
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
    print(f"window length: 1 day {figures['ms_1d']:.2f} ms, 365 days {figures['ms_365d']:.2f} ms; "
          f"group of {monitors} monitors over 30 days: {figures['group_ms_median']:.2f} ms, exact "
          f"{figures['group_exact_ms_median']:.1f} ms")
    print("max relative error by latency shape: "
          + ", ".join(f"{s} {e:.4%}" for s, e in figures["errors"].items()))
    emit({
        "rows": rows,
        "monitors": monitors,
        "regions": len(regions),
        "query_ms_median": round(figures["ours_ms_median"], 3),
        "query_ms_median_clean": round(figures["ours_clean_ms_median"], 3),
        "query_ms_median_dirty": round(figures["ours_dirty_ms_median"], 3),
        "exact_ms_median": round(figures["exact_ms_median"], 3),
        "speedup_vs_exact": round(figures["exact_ms_median"] / figures["ours_ms_median"], 2),
        "round_trip_ms_median": round(figures["round_trip_ms_median"], 3),
        "server_ms_median": round(figures["server_ms_median"], 3),
        **compared,
        "ms_1d": round(figures["ms_1d"], 3),
        "ms_365d": round(figures["ms_365d"], 3),
        "ms_365d_over_1d": round(figures["ms_365d"] / figures["ms_1d"], 2),
        "length_mismatches": figures["length_mismatches"],
        "group_monitors": monitors,
        "group_ms_median": round(figures["group_ms_median"], 3),
        "group_exact_ms_median": round(figures["group_exact_ms_median"], 2),
        "group_speedup_vs_exact": round(figures["group_exact_ms_median"] / figures["group_ms_median"], 1),
        "group_max_rel_error": round(figures["group_max_rel_error"], 5),
        "group_uptime_mismatch": figures["group_uptime_mismatch"],
        "other_accounts_rows": tenants["rows"],
        "dirty_hours": dirty,
        "older_daily_rollups": older,
        "interval_s": interval_s,
        "max_rel_error": round(max(figures["errors"].values()), 5),
        **{f"max_rel_error_{s}": round(e, 5) for s, e in figures["errors"].items()},
        "uptime_mismatches": figures["uptime_mismatches"],
        "aggregate_s_per_million_rows": round(agg_s / (rows / 1e6), 2),
        "seed_rows_per_s": round(rows / seed_s),
    })


if __name__ == "__main__":
    main()
