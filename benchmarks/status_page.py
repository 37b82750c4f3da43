"""A public status page under load: 20 monitors with 90 days of history (`vigil seed`'s
generator, one region, a check every 5 minutes), rolled up by the aggregator, on one page
served by the real API under uvicorn (one process, uvloop), and in the same run the trivial
Litestar endpoint of benchmarks/baseline_app.py served the same way.

    python -m benchmarks.status_page            # three rounds of 15 s locust phases
    python -m benchmarks.status_page --quick    # two rounds of 4 s phases (under a minute)
    python -m benchmarks.status_page --profile  # where an uncached page's time goes, no load

Figures:
- uncached_ms_median: one page built from the database (cache off), requests one at a time,
  median wall time at the client over UNCACHED_REQUESTS requests (and p95);
- cached_rps: locust users sending back to back against the page with its cache on and rate
  limits on (as deployed: every public request is counted per client address, in blocks of
  places taken from Redis; the limit set far above the load), and cached_rps_limits_off;
- ratio = cached_rps / baseline_rps, both measured here, in rounds (each round loads each
  server once, in a rotated order; the figures are means over the rounds, ratio_rounds the
  ratio of each round);
- cached_server_us (and _limits_off, baseline_server_us): the server process's own CPU
  (user + system) per answered request in those phases, and server_cost_ratio =
  baseline_server_us / cached_server_us: what the page costs the server, apart from the
  load generator, which shares the cores and also unpacks every gzipped page.
Load generator, server and PostgreSQL share this machine's cores: compare the ratios."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from psycopg_pool import AsyncConnectionPool

from aggregator import rollup
from aggregator.seed import SeedPlan
from benchmarks.api import CAPACITY_USERS, ROOT, SERVER_PIDS, cpu_seconds, run_locust, seed_account, served
from benchmarks.harness import emit, throwaway_postgres, throwaway_redis
from vigil.migrate import migrate
from vigil.settings import Settings

MONITORS, DAYS, INTERVAL = 20, 90, 300
UNCACHED_REQUESTS = 40
PAGE = "/status/bench"


def seed(dsn: str) -> tuple[str, list[int]]:
    return seed_account(dsn, SeedPlan(monitors=MONITORS, days=DAYS, regions=["eu"], interval_s=INTERVAL), "write")


async def materialise(dsn: str) -> int:
    """The aggregator's rollups of the seeded days, built by its own statements over the whole
    range at once (the running aggregator rolls a day per transaction, which for 90 days of
    history takes minutes), then its ordinary roll for the hours of today. Returns hours."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=DAYS + 1)
    async with AsyncConnectionPool(dsn, min_size=1, max_size=1, open=False) as pool:
        async with pool.connection() as conn, conn.transaction():
            await rollup._roll_hours(conn, first, today)
            await rollup._roll_days(conn, first, today)
            await rollup._set(conn, "1 hour", today)
            await rollup._set(conn, "1 day", today)
        return (DAYS + 1) * 24 + await rollup.roll(pool)


def create_page(host: str, key: str, ids: list[int]) -> int:
    """The page through the API: four sections of five monitors, and an incident."""
    h = {"Authorization": f"Bearer {key}"}
    sections = [{"name": f"Section {s + 1}", "monitors": [
        {"monitor_id": mid, "display_name": f"Service {i + 1}"} for i, mid in enumerate(ids) if i // 5 == s]}
        for s in range(4)]
    r = httpx.post(f"{host}/api/v1/status-pages", headers=h, json={"slug": "bench", "title": "Bench",
                                                                   "sections": sections})
    r.raise_for_status()
    httpx.post(f"{host}/api/v1/status-pages/incidents", headers=h, json={
        "title": "Slow answers", "monitor_ids": ids[:2], "message": "Looking into it."}).raise_for_status()
    return len(httpx.get(f"{host}{PAGE}").content)


def uncached(host: str) -> list[float]:
    times = []
    with httpx.Client(base_url=host) as client:
        for i in range(UNCACHED_REQUESTS + 3):
            started = time.perf_counter()
            r = client.get(PAGE)
            elapsed = (time.perf_counter() - started) * 1000
            assert r.status_code == 200, r.text
            if i >= 3:  # the first ones warm the connection pool and the query plans
                times.append(elapsed)
    return times


PROFILE_RUNS = 20


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples):6.2f} ms"


async def profile(settings: Settings) -> None:
    """Where an uncached page's time goes, in this process: each statement's planning and
    execution time on the server (EXPLAIN ANALYZE), the stages' wall times, and cProfile's
    functions over PROFILE_RUNS page builds."""
    import cProfile
    import gzip
    import pstats

    from api.app import create_app
    from api.status_pages import render
    from api.status_pages.snapshot import after_layout, page_snapshot
    from vigil.db import open_pool
    from vigil.queries import sql

    app = create_app(settings)  # its templates; the pool below does the reading
    pool = await open_pool(settings.database_url, min_size=1, max_size=2, dict_rows=True)
    try:
        async with pool.connection() as conn:
            await conn.set_autocommit(True)
            page = await (await conn.execute(sql("status_page_by_slug"), {"slug": PAGE.rsplit("/", 1)[1]})).fetchone()
            layout = await (await conn.execute(sql("status_page_layout"), {"page_id": page["id"]})).fetchall()
            statements = [("status_page_layout", {"page_id": page["id"]}, None),
                          *after_layout(page, layout, datetime.now(UTC))]
            bounds = await (await conn.execute(sql("status_figure_bounds"), statements[2][1])).fetchone()
            statements.append(("status_figures", statements[2][1] | bounds, False))
            for name, params, _ in statements:
                planning, execution = [], []
                for _ in range(PROFILE_RUNS):
                    cur = await conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql(name), params, prepare=False)
                    plan = (await cur.fetchone())["QUERY PLAN"][0]
                    planning.append(plan["Planning Time"])
                    execution.append(plan["Execution Time"])
                print(f"{name:<26} planning {_median_ms(planning)}  execution {_median_ms(execution)}")
        stages: dict[str, list[float]] = {"snapshot": [], "render": [], "gzip": []}
        for i in range(PROFILE_RUNS + 3):  # the first ones warm the pool and the plans
            t0 = time.perf_counter()
            snapshot = await page_snapshot(pool, page)
            t1 = time.perf_counter()
            body = render.html(app, snapshot, PAGE)
            t2 = time.perf_counter()
            gzip.compress(body, 6)
            if i >= 3:
                for stage, took in zip(stages, (t1 - t0, t2 - t1, time.perf_counter() - t2), strict=True):
                    stages[stage].append(took * 1000)
        print("  ".join(f"{stage} {_median_ms(took)}" for stage, took in stages.items()))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(PROFILE_RUNS):
            render.html(app, await page_snapshot(pool, page), PAGE)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    finally:
        await pool.close()


# The three servers under load, in rounds: each round loads each server once, in a rotated
# order, so a change in the machine's load during the run reaches all three alike.
TARGETS = {"on": "cached page, limits on", "off": "cached page, limits off", "base": "baseline endpoint"}


def phase(host: str, user: str, seconds: int, env: dict[str, str], locustfile: Path) -> dict:
    """A capacity phase, plus the server process's CPU microseconds per request."""
    before = cpu_seconds(SERVER_PIDS[host])
    result = run_locust(host, user, CAPACITY_USERS, seconds, 0, env, locustfile)
    result["cpu_us"] = (cpu_seconds(SERVER_PIDS[host]) - before) * 1e6 / max(result["requests"], 1)
    return result


def rounds(hosts: dict[str, str], count: int, seconds: int, env: dict[str, str], locustfile: Path) -> dict:
    """{target: [phase result, ...]} over ``count`` rounds."""
    runs: dict[str, list[dict]] = {name: [] for name in TARGETS}
    names = list(TARGETS)
    for i in range(count):
        for name in names[i % 3:] + names[:i % 3]:
            user = "BaselineUser" if name == "base" else "StatusPageUser"
            runs[name].append(phase(hosts[name], user, seconds, env, locustfile))
    return runs


def summary(runs: list[dict]) -> dict:
    """Throughput and server CPU per request over a target's phases (each phase weighs alike)."""
    return {"rps": statistics.mean(r["rps"] for r in runs), "cpu_us": statistics.mean(r["cpu_us"] for r in runs),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs), "p99_ms": max(r["p99_ms"] for r in runs),
            "failures": sum(r["failures"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two rounds of 4 s phases (under a minute)")
    parser.add_argument("--profile", action="store_true",
                        help="instead of the load: where an uncached page's time goes (statements, stages, cProfile)")
    args = parser.parse_args()
    count, seconds = (2, 4) if args.quick else (3, 15)

    with throwaway_postgres(durable=False) as pg, throwaway_redis() as redis:
        migrate(Settings(database_url=pg.dsn, redis_url=redis.url))
        started = time.perf_counter()
        key, ids = seed(pg.dsn)
        hours = asyncio.run(materialise(pg.dsn))
        print(f"seeded {MONITORS} monitors x {DAYS} days and rolled {hours} hours in "
              f"{time.perf_counter() - started:.1f} s")
        env = {**os.environ, "VIGIL_DATABASE_URL": pg.dsn, "VIGIL_REDIS_URL": redis.url,
               "VIGIL_BENCH_PAGE": PAGE, "PYTHONPATH": str(ROOT),
               "VIGIL_RATE_LIMIT_ADDRESS_PER_MINUTE": str(10**9)}
        with served("api.app:create_app", {**env, "VIGIL_STATUS_CACHE_SECONDS": "0"}, factory=True) as host:
            page_bytes = create_page(host, key, ids)
            times = uncached(host)
        if args.profile:
            asyncio.run(profile(Settings(database_url=pg.dsn, redis_url=redis.url)))
            return
        with ExitStack() as stack:
            hosts = {"on": stack.enter_context(served("api.app:create_app", env, factory=True)),
                     "off": stack.enter_context(served("api.app:create_app", {
                         **env, "VIGIL_RATE_LIMIT_ENABLED": "0"}, factory=True)),
                     "base": stack.enter_context(served("benchmarks.baseline_app:app", env))}
            for name in ("on", "off"):
                urllib.request.urlopen(hosts[name] + PAGE, timeout=30).read()
            runs = rounds(hosts, count, seconds, env, ROOT / "benchmarks" / "status_locust.py")

    times.sort()
    print(f"page: {page_bytes:,} bytes of HTML; uncached median {statistics.median(times):.1f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms over {len(times)} requests")
    got = {name: summary(r) for name, r in runs.items()}
    for name, label in TARGETS.items():
        r, each = got[name], ", ".join(f"{x['rps']:.0f}" for x in runs[name])
        print(f"{label:<26}{r['rps']:>9.0f} req/s  p50 {r['p50_ms']:.0f} ms  p99 {r['p99_ms']:.0f} ms  "
              f"server {r['cpu_us']:.0f} us CPU/request  failures {r['failures']}  (rounds: {each} req/s)")
    on, off, base = got["on"], got["off"], got["base"]
    emit({"cached_rps": round(on["rps"], 1), "cached_rps_limits_off": round(off["rps"], 1),
          "baseline_rps": round(base["rps"], 1),
          "ratio": round(on["rps"] / base["rps"], 3) if base["rps"] else None,
          "ratio_limits_off": round(off["rps"] / base["rps"], 3) if base["rps"] else None,
          "ratio_rounds": [round(a["rps"] / b["rps"], 3) if b["rps"] else None
                           for a, b in zip(runs["on"], runs["base"], strict=True)],
          "cached_server_us": round(on["cpu_us"], 1), "cached_server_us_limits_off": round(off["cpu_us"], 1),
          "baseline_server_us": round(base["cpu_us"], 1),
          "server_cost_ratio": round(base["cpu_us"] / on["cpu_us"], 3) if on["cpu_us"] else None,
          "uncached_ms_median": round(statistics.median(times), 2),
          "uncached_ms_p95": round(times[int(len(times) * 0.95) - 1], 2),
          "page_bytes": page_bytes, "failures": on["failures"] + off["failures"] + base["failures"],
          "monitors": MONITORS, "days": DAYS, "rounds": count, "phase_s": seconds})


if __name__ == "__main__":
    main()
