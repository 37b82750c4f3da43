"""A public status page under load: 20 monitors with 90 days of history (`vigil seed`'s
generator, one region, a check every 5 minutes), rolled up by the aggregator, on one page
served by the real API under uvicorn (one process, uvloop), and in the same run the trivial
Litestar endpoint of benchmarks/baseline_app.py served the same way.

    python -m benchmarks.status_page            # 20 s locust phases
    python -m benchmarks.status_page --quick    # 5 s phases (under a minute)

Figures:
- uncached_ms_median: one page built from the database (cache off), requests one at a time,
  median wall time at the client over UNCACHED_REQUESTS requests (and p95);
- cached_rps: locust users sending back to back against the page with its cache on and rate
  limits on (as deployed: every public request is counted per client address, in blocks of
  places taken from Redis; the limit set far above the load), and cached_rps_limits_off;
- ratio = cached_rps / baseline_rps, both measured here;
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
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
from psycopg_pool import AsyncConnectionPool

from aggregator import rollup
from aggregator.seed import SeedPlan
from aggregator.seed import seed as seed_history
from benchmarks.api import ROOT, capacity_with_cpu, served
from benchmarks.harness import emit, throwaway_postgres, throwaway_redis
from vigil.accounts import create_account_with_key
from vigil.migrate import migrate
from vigil.settings import Settings

MONITORS, DAYS, INTERVAL = 20, 90, 300
UNCACHED_REQUESTS = 40
PAGE = "/status/bench"


def seed(dsn: str) -> tuple[str, list[int]]:
    plan = SeedPlan(monitors=MONITORS, days=DAYS, regions=["eu"], interval_s=INTERVAL)
    seed_history(dsn, plan, progress=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        account_id, key = create_account_with_key(conn, plan.account, "write")
        ids = [r[0] for r in conn.execute("SELECT id FROM monitors WHERE account_id = %s ORDER BY id", (account_id,))]
        conn.execute("ANALYZE")
    return key, ids


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 s phases (under a minute)")
    args = parser.parse_args()
    seconds = 5 if args.quick else 20

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
        locustfile = ROOT / "benchmarks" / "status_locust.py"
        with served("api.app:create_app", {**env, "VIGIL_STATUS_CACHE_SECONDS": "0"}, factory=True) as host:
            page_bytes = create_page(host, key, ids)
            times = uncached(host)
        with served("api.app:create_app", env, factory=True) as host:
            urllib.request.urlopen(host + PAGE, timeout=30).read()
            cached = capacity_with_cpu(host, seconds, env, "StatusPageUser", locustfile)
        with served("api.app:create_app", {**env, "VIGIL_RATE_LIMIT_ENABLED": "0"}, factory=True) as host:
            urllib.request.urlopen(host + PAGE, timeout=30).read()
            cached_off = capacity_with_cpu(host, seconds, env, "StatusPageUser", locustfile)
        with served("benchmarks.baseline_app:app", env) as host:
            base = capacity_with_cpu(host, seconds, env, "BaselineUser", locustfile)

    times.sort()
    print(f"page: {page_bytes:,} bytes of HTML; uncached median {statistics.median(times):.1f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms over {len(times)} requests")
    for name, r in (("cached page, limits on", cached), ("cached page, limits off", cached_off),
                     ("baseline endpoint", base)):
        print(f"{name:<26}{r['rps']:>9.0f} req/s  p50 {r['p50_ms']:.0f} ms  p99 {r['p99_ms']:.0f} ms  "
              f"server {r['cpu_us']:.0f} us CPU/request  failures {r['failures']}")
    emit({"cached_rps": round(cached["rps"], 1), "cached_rps_limits_off": round(cached_off["rps"], 1),
          "baseline_rps": round(base["rps"], 1),
          "ratio": round(cached["rps"] / base["rps"], 3) if base["rps"] else None,
          "ratio_limits_off": round(cached_off["rps"] / base["rps"], 3) if base["rps"] else None,
          "cached_server_us": round(cached["cpu_us"], 1), "cached_server_us_limits_off": round(cached_off["cpu_us"], 1),
          "baseline_server_us": round(base["cpu_us"], 1),
          "server_cost_ratio": round(base["cpu_us"] / cached["cpu_us"], 3) if cached["cpu_us"] else None,
          "uncached_ms_median": round(statistics.median(times), 2),
          "uncached_ms_p95": round(times[int(len(times) * 0.95) - 1], 2),
          "page_bytes": page_bytes, "failures": cached["failures"] + cached_off["failures"] + base["failures"],
          "monitors": MONITORS, "days": DAYS, "phase_s": seconds})


if __name__ == "__main__":
    main()
