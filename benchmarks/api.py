"""Stats API under load: locust (benchmarks/locustfile.py) and a fixed-rate driver
(benchmarks/fixed_rate.py) against the real API served by uvicorn on a seeded, rolled-up
database, and in the same run against a trivial Litestar endpoint served the same way
(benchmarks/baseline_app.py).

    python -m benchmarks.api            # 50 monitors x 7 days, 20 s per phase
    python -m benchmarks.api --quick    # 20 monitors x 2 days, 5 s per phase
    python -m benchmarks.api --observe  # only: observability off and on, 500 req/s phases
    python -m benchmarks.api --with-background  # only: 500 req/s without and with background work
    python -m benchmarks.api --refresh-cost     # only: what refreshing cached answers costs

With --observe two servers, observability off and on (JSON logs and traces at a 1 % sample,
benchmarks/observe.py), run 500 req/s phases in alternating pairs like the rate-limit ones:
observability_cpu_overhead = the server's CPU per request, on / off - 1 (medians of the phases).

With --with-background one server runs the 500 req/s phase twice: alone (p99_ms), then with
the aggregator, the evaluator and a results writer working beside it as real processes
(p99_ms_with_background; benchmarks/api_background.py says what they do), one aggregator run
and one evaluator tick placed inside that phase; p99_ratio_with_background = with / without.

With --refresh-cost two servers, the default answer cache and one whose answers never
expire, run 500 req/s phases in alternating pairs, each phase after a pass over every question
(so both start with every answer fresh): refresh_server_cpu_ms_per_s and
refresh_postgres_cpu_ms_per_s = what the default server and PostgreSQL spent a second beyond
the other (medians of the phases): the cost of keeping the answers at most a period old.

Two phases per target: capacity (locust users send back to back; gives rps) and a fixed
500 req/s (benchmarks/fixed_rate.py: requests leave on a fixed schedule and each is timed
from when it was due; gives p50_ms and p99_ms). The same fixed rate driven by locust users
(p99_ms_locust, baseline_p99_ms_locust) is kept beside it: locust's own scheduling adds
more to that figure than the server does. ratio_vs_baseline = stats rps / baseline rps;
server_cost_ratio = the baseline server's CPU per request / the stats server's (capacity
phases, from /proc), which other work on the cores disturbs less.
The stats API runs with its default answer cache (VIGIL_STATS_CACHE_SECONDS), and once more
without it (uncached_rps) to show the cost of the queries themselves. Rate limits are off in
those phases; a second server with them on (limits far above the load, so every request is
counted in Redis and none refused) runs capacity phases alternating with the first, four
pairs in alternating order: ratelimit_overhead = capacity off / capacity on - 1 (summed over the pairs), and
ratelimit_cpu_overhead, the same for the server process's CPU time per request (read from
/proc), which the other processes sharing the cores disturb much less.
Load generator, server and PostgreSQL share this machine's cores, so compare the ratio,
not absolute figures across machines."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg_pool import AsyncConnectionPool

from aggregator.rollup import roll
from aggregator.seed import SeedPlan
from aggregator.seed import seed as seed_history
from benchmarks import api_background
from benchmarks.harness import emit, median, scraping, throwaway_postgres, throwaway_redis
from benchmarks.observe import PLAIN_ENV, observe_env, trace_sink
from benchmarks.stats_requests import GROUP_REQUEST, MONITOR_REQUESTS
from vigil.accounts import create_account_with_key
from vigil.devcluster import free_port, wait_for_port
from vigil.migrate import migrate
from vigil.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "benchmarks" / "locustfile.py"
TARGET_RPS = 500
RATE_USERS = 50            # x 10 req/s each = TARGET_RPS, in the locust fixed-rate phases
CAPACITY_USERS = 32
GROUP_TAG = "lognormal"  # `vigil seed` tags every third monitor with it


def seed(dsn: str, monitors: int, days: int) -> tuple[str, list[int]]:
    """`vigil seed`'s history (two regions, one-minute checks) and a read API key of its
    account; returns (key, monitor ids)."""
    return seed_account(dsn, SeedPlan(monitors=monitors, days=days, regions=["eu", "us"]), "read")


def seed_account(dsn: str, plan: SeedPlan, scope: str) -> tuple[str, list[int]]:
    """``plan``'s history and an API key of ``scope`` for its account; returns (key, monitor ids)."""
    seed_history(dsn, plan, progress=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        account_id, key = create_account_with_key(conn, plan.account, scope)
        ids = [r[0] for r in conn.execute("SELECT id FROM monitors WHERE account_id = %s ORDER BY id", (account_id,))]
        conn.execute("ANALYZE")
    return key, ids


async def _roll(dsn: str) -> int:
    async with AsyncConnectionPool(dsn, min_size=1, max_size=1, open=False) as pool:
        return await roll(pool)


SERVER_PIDS: dict[str, int] = {}
RATELIMIT_PAIRS = 4


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _with_server_cpu(host: str, phase: Callable[[], dict]) -> dict:
    """A phase's results plus the server's CPU microseconds per request over it."""
    before = cpu_seconds(SERVER_PIDS[host])
    result = phase()
    result["cpu_us"] = (cpu_seconds(SERVER_PIDS[host]) - before) * 1e6 / max(result["requests"], 1)
    return result


def capacity_with_cpu(host: str, seconds: int, env: dict[str, str], users: int = CAPACITY_USERS,
                      user: str = "StatsUser") -> dict:
    """A capacity phase (locust users sending back to back), plus the server's CPU per request."""
    return _with_server_cpu(host, lambda: run_locust(host, user, users, seconds, 0, env))


def run_fixed_rate(host: str, kind: str, seconds: int, env: dict[str, str]) -> dict:
    """TARGET_RPS requests a second on a fixed schedule (benchmarks/fixed_rate.py): ``kind``
    is "stats" (the locustfile's StatsUser mix) or "baseline"."""
    cmd = [sys.executable, "-m", "benchmarks.fixed_rate", "--host", host, "--rate", str(TARGET_RPS),
           "--seconds", str(seconds), kind]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False, timeout=seconds + 90)
    if done.returncode != 0:
        raise RuntimeError(f"the fixed-rate driver failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fixed_rate_with_cpu(host: str, seconds: int, env: dict[str, str], kind: str = "stats") -> dict:
    """A fixed-rate phase (open loop, TARGET_RPS), plus the server's CPU per request."""
    return _with_server_cpu(host, lambda: run_fixed_rate(host, kind, seconds, env))


@contextmanager
def served(app: str, env: dict[str, str], factory: bool = False):
    """The app under uvicorn, one process, uvloop, no access log (as `vigil api` serves it)."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
           "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log", "--no-server-header"] + (["--factory"] if factory else [])
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        wait_for_port(port, 30)
        SERVER_PIDS[f"http://127.0.0.1:{port}"] = proc.pid
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(15)


def run_locust(host: str, user: str, users: int, seconds: int, rate: float, env: dict[str, str],
               locustfile: Path = LOCUSTFILE) -> dict:
    with tempfile.TemporaryDirectory(prefix="vigil-locust-") as tmp:
        prefix = os.path.join(tmp, "run")
        cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users),
               "-r", str(users), "-t", f"{seconds}s", "--csv", prefix, "--host", host, "--only-summary",
               "--loglevel", "WARNING", user]
        subprocess.run(cmd, env={**env, "VIGIL_BENCH_USER_RATE": str(rate)}, cwd=ROOT,
                       capture_output=True, text=True, check=False, timeout=seconds + 60)
        with open(prefix + "_stats.csv") as f:
            rows = {r["Name"]: r for r in csv.DictReader(f)}
    total = rows.pop("Aggregated")
    return {"rps": float(total["Requests/s"]), "p50_ms": float(total["50%"]), "p99_ms": float(total["99%"]),
            "requests": int(total["Request Count"]), "failures": int(total["Failure Count"]),
            "endpoints": {name: float(r["99%"]) for name, r in rows.items()}}


def warm_up(host: str, key: str, ids: list[int]) -> None:
    """Ask every question of the load once, so the phases measure a steady state."""
    headers = {"Authorization": f"Bearer {key}"}
    urls = [f"{host}{path.format(id=mid)}?{urllib.parse.urlencode(query)}"
            for mid in ids for _, path, query, _ in MONITOR_REQUESTS]
    name, path, query, _ = GROUP_REQUEST
    urls.append(f"{host}{path}?{urllib.parse.urlencode({**query, 'tag': GROUP_TAG})}")
    for url in urls:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as resp:
            assert resp.status == 200, url


def alternating_capacity(hosts: tuple[str, str], seconds: int, env: dict[str, str],
                         phase=capacity_with_cpu) -> tuple[list, list]:
    """RATELIMIT_PAIRS capacity phases (or ``phase``s: fixed_rate_with_cpu) on each host, in the
    order a-b, b-a, ... (a drift in the machine's load hits both alike); returns each host's results."""
    runs: tuple[list, list] = ([], [])
    for i in range(RATELIMIT_PAIRS):
        for target in (hosts if i % 2 == 0 else hosts[::-1]):
            runs[hosts.index(target)].append(phase(target, seconds, env))
    return runs


def observe_overhead(env: dict[str, str], key: str, ids: list[int], seconds: int) -> dict:
    # Answers cached for the whole run: the cache's background refreshes (a burst of queries
    # every few seconds, landing in one phase or the next) made CPU per request swing by a
    # third between phases of the same server, far more than what is measured here.
    env = {**env, "VIGIL_STATS_CACHE_SECONDS": "3600"}
    with trace_sink() as sink, served("api.app:create_app", {**env, **PLAIN_ENV}, factory=True) as off_host, \
            served("api.app:create_app", {**env, **observe_env(sink)}, factory=True) as on_host:
        warm_up(off_host, key, ids)
        warm_up(on_host, key, ids)
        # At a fixed rate, so both servers' fixed costs per second (key-use counting, the
        # event loop's idle work) are spread over the same number of requests.
        # The observed server's /metrics is scraped throughout, as Prometheus would.
        with scraping([f"{on_host}/metrics"]):
            off, on = alternating_capacity((off_host, on_host), seconds, env, phase=fixed_rate_with_cpu)
    for name, runs in (("off", off), ("on", on)):
        for i, r in enumerate(runs, 1):
            print(f"{TARGET_RPS} req/s, observability {name} {i}: {r['rps']:.0f} req/s, p99 {r['p99_ms']:.1f} ms, "
                  f"server {r['cpu_us']:.0f} us/request, failures {r['failures']}")
    off_rps, on_rps = (sum(r["rps"] for r in runs) for runs in (off, on))
    # Medians: one phase that another process on the cores slowed down must not decide it.
    off_cpu, on_cpu = (median([r["cpu_us"] for r in runs]) for runs in (off, on))
    print(f"observability_cpu_overhead: {on_cpu:.0f} / {off_cpu:.0f} us (medians) - 1 = {on_cpu / off_cpu - 1:.3f} "
          "(goal <= 0.05)")
    return {"observability_rps": [round(off_rps / len(off), 1), round(on_rps / len(on), 1)],
            "observability_cpu_us_per_request": [round(off_cpu, 1), round(on_cpu, 1)],
            "observability_cpu_overhead": round(on_cpu / off_cpu - 1, 3) if off_cpu else None,
            "failures": sum(r["failures"] for r in (*off, *on))}


def refresh_cost(env: dict[str, str], key: str, ids: list[int], seconds: int, datadir: Path) -> dict:
    """The answer cache's refreshing: the default cache against answers that never expire."""
    with served("api.app:create_app", env, factory=True) as default, \
            served("api.app:create_app", {**env, "VIGIL_STATS_CACHE_SECONDS": "3600"}, factory=True) as kept:
        runs: dict[str, list[dict]] = {default: [], kept: []}
        for i in range(RATELIMIT_PAIRS):
            for target in ((default, kept) if i % 2 == 0 else (kept, default)):
                warm_up(target, key, ids)  # every answer fresh at the start of the phase
                pg0 = api_background.postgres_cpu_seconds(datadir)
                r = fixed_rate_with_cpu(target, seconds, env)
                r["pg_ms_per_s"] = (api_background.postgres_cpu_seconds(datadir) - pg0) * 1e3 / seconds
                r["cpu_ms_per_s"] = r["cpu_us"] * r["rps"] / 1e3
                runs[target].append(r)
    out = {}
    for name, host in (("default", default), ("kept", kept)):
        for i, r in enumerate(runs[host], 1):
            print(f"{TARGET_RPS} req/s, answers {name} {i}: {r['rps']:.0f} req/s, p99 {r['p99_ms']:.1f} ms, "
                  f"server {r['cpu_ms_per_s']:.0f} ms/s, PostgreSQL {r['pg_ms_per_s']:.0f} ms/s")
        out[name] = {k: median([r[k] for r in runs[host]]) for k in ("cpu_ms_per_s", "pg_ms_per_s", "p99_ms")}
    server, postgres = (out["default"][k] - out["kept"][k] for k in ("cpu_ms_per_s", "pg_ms_per_s"))
    print(f"refreshing costs the server {server:.0f} ms and PostgreSQL {postgres:.0f} ms of CPU a second "
          f"(medians: {out['default']['cpu_ms_per_s']:.0f} - {out['kept']['cpu_ms_per_s']:.0f} and "
          f"{out['default']['pg_ms_per_s']:.0f} - {out['kept']['pg_ms_per_s']:.0f})")
    return {"refresh_server_cpu_ms_per_s": round(server, 1), "refresh_postgres_cpu_ms_per_s": round(postgres, 1),
            "server_cpu_ms_per_s": [round(out["default"]["cpu_ms_per_s"], 1), round(out["kept"]["cpu_ms_per_s"], 1)],
            "postgres_cpu_ms_per_s": [round(out["default"]["pg_ms_per_s"], 1), round(out["kept"]["pg_ms_per_s"], 1)],
            "p99_ms": [round(out["default"]["p99_ms"], 2), round(out["kept"]["p99_ms"], 2)],
            "failures": sum(r["failures"] for rs in runs.values() for r in rs)}


# Seconds from starting the background processes to the loaded phase: they start, connect
# and (the writer) hold late rows back meanwhile.
BACKGROUND_BOOT_S = 8
# Seconds from starting the fixed-rate driver to its first requests (its imports: 0.3-0.4 s here).
DRIVER_START_S = 0.4


def warm_until(deadline: float, host: str, key: str, ids: list[int]) -> None:
    """Keep asking every question until ``deadline`` (Unix time), so no answer goes cold."""
    while time.time() < deadline - 0.5:
        warm_up(host, key, ids)
    time.sleep(max(0.0, deadline - time.time()))


def with_background(env: dict[str, str], key: str, ids: list[int], seconds: int, pg, redis_url: str,
                    write_key: str) -> dict:
    """The 500 req/s phase alone and then with the background work, on one server. The
    aggregator runs a fifth into the loaded phase and the evaluator ticks 0.4 of it later."""
    with served("api.app:create_app", env, factory=True) as host:
        api_background.prepare(host, write_key, ids, pg.dsn, redis_url)
        warm_up(host, key, ids)
        pg_before = api_background.postgres_cpu_seconds(pg.datadir)
        alone = fixed_rate_with_cpu(host, seconds, env)
        alone_pg_cpu = api_background.postgres_cpu_seconds(pg.datadir) - pg_before
        # Cron seconds are whole: the run is placed on one and the phase around it.
        run_at = math.ceil(time.time() + BACKGROUND_BOOT_S + DRIVER_START_S + seconds * 0.2)
        start = run_at - DRIVER_START_S - seconds * 0.2
        with api_background.running(pg, redis_url, aggregator_at=run_at,
                                    evaluator_at=run_at + max(1, round(seconds * 0.4))) as bg:
            # Asked meanwhile, so the answers are as warm as for the phase alone.
            warm_until(start, host, key, ids)
            late_start = round(time.time() - start, 1)
            before = bg.snapshot()
            busy = fixed_rate_with_cpu(host, seconds, env)
            work = bg.delta(before, bg.snapshot())
        work["writer"] = api_background.writer_figures(bg)
    for name, r, pg_cpu in (("alone", alone, alone_pg_cpu), ("with background", busy, work["cpu_s"]["postgres"])):
        print(f"{TARGET_RPS} req/s, {name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
              f"server {r['cpu_us']:.0f} us/request, PostgreSQL {pg_cpu:.2f} CPU s, failures {r['failures']}")
    agg, ev, cpu, writer = work["aggregator"], work["evaluator"], work["cpu_s"], work["writer"]
    print(f"background during the phase: aggregator {agg['runs']:.0f} run(s), {agg['hours_rolled']:.0f} hour "
          f"bucket(s) rolled in {agg['run_s']:.2f} s; evaluator {ev['ticks']:.0f} tick(s) in {ev['tick_s']:.2f} s "
          f"over {len(api_background.RULES)} rules x {len(ids)} monitors; CPU s: "
          + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    print(f"results writer over its {writer.get('seconds')} s: {writer.get('rows_per_s')} rows/s "
          f"({writer.get('fresh_rows')} fresh, {writer.get('down_rows')} of them down, "
          f"{writer.get('late_rows')} late into rolled hours)")
    if not agg["runs"] or not ev["ticks"]:
        print(f"warning: the phase missed a run or tick (it started {late_start} s late)", file=sys.stderr)
    return {"p99_ms": alone["p99_ms"], "p99_ms_with_background": busy["p99_ms"],
            "send_lag_p99_ms": max(alone["send_lag_p99_ms"], busy["send_lag_p99_ms"]),
            "p99_ratio_with_background": round(busy["p99_ms"] / alone["p99_ms"], 3) if alone["p99_ms"] else None,
            "p50_ms": alone["p50_ms"], "p50_ms_with_background": busy["p50_ms"],
            "rps_at_target": [round(alone["rps"], 1), round(busy["rps"], 1)],
            "server_cpu_us_per_request": [round(alone["cpu_us"], 1), round(busy["cpu_us"], 1)],
            "postgres_cpu_s": [round(alone_pg_cpu, 2), work["cpu_s"]["postgres"]],
            "background": work, "failures": alone["failures"] + busy["failures"]}


# Where a py-spy sample of the server is counted: the first of these its innermost frames
# (leaf first) belongs to.
PROFILE_PARTS = [
    ("stats shortcut", ("api/stats/shortcut.py",)),
    ("stats answers computed", ("api/stats/", "aggregator/", "psycopg", "pydantic", "numpy")),
    ("authentication", ("api/auth.py", "api/account_status.py", "vigil/accounts.py", "hmac.py")),
    ("request id, log context", ("api/security.py", "vigil/logs.py", "uuid.py")),
    ("security headers", ("api/headers.py",)),
    ("metrics", ("api/metrics.py", "prometheus_client")),
    ("rate limits", ("api/ratelimit.py", "limits/", "redis/")),
    ("status page shortcut", ("api/status_pages/",)),
    ("Litestar", ("litestar/",)),
    ("uvicorn (HTTP parsing, writing)", ("uvicorn/", "httptools")),
    ("event loop", ("asyncio/", "uvloop")),
]


def profile_shares(path: str) -> dict[str, float]:
    """Each part's share of a py-spy raw (collapsed stacks) profile."""
    counts: dict[str, int] = {}
    for line in Path(path).read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")[::-1]
        part = next((name for frame in frames for name, marks in PROFILE_PARTS
                     if any(mark in frame for mark in marks)), "other")
        counts[part] = counts.get(part, 0) + int(n)
    total = sum(counts.values()) or 1
    return {k: round(v / total, 3) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller history, 5 s phases (under a minute)")
    parser.add_argument("--observe", action="store_true", help="only the observability off/on pairs")
    parser.add_argument("--profile", metavar="FILE",
                        help="py-spy samples of the stats server through one more capacity phase (collapsed stacks)")
    parser.add_argument("--with-background", action="store_true",
                        help="only the 500 req/s phase, alone and with the aggregator, evaluator and writes beside it")
    parser.add_argument("--refresh-cost", action="store_true",
                        help="only: 500 req/s with the default answer cache and with answers that never expire")
    args = parser.parse_args()
    monitors, days, seconds = (20, 2, 5) if args.quick else (50, 7, 20)

    with throwaway_postgres(durable=False) as pg, throwaway_redis() as redis:
        settings = Settings(database_url=pg.dsn, redis_url=redis.url)
        migrate(settings)
        started = time.perf_counter()
        key, ids = seed(pg.dsn, monitors, days)
        hours = asyncio.run(_roll(pg.dsn))
        print(f"seeded {monitors} monitors x {days} days x 2 regions and rolled {hours} hours "
              f"in {time.perf_counter() - started:.1f} s")
        env = {**os.environ, "VIGIL_DATABASE_URL": pg.dsn, "VIGIL_REDIS_URL": redis.url,
               "VIGIL_BENCH_KEY": key, "VIGIL_BENCH_MONITORS": ",".join(map(str, ids)),
               "VIGIL_BENCH_TAG": GROUP_TAG, "PYTHONPATH": str(ROOT), "VIGIL_RATE_LIMIT_ENABLED": "0"}
        if args.with_background:
            with psycopg.connect(pg.dsn, autocommit=True) as conn:
                _, write_key = create_account_with_key(conn, SeedPlan(monitors, days, []).account, "write")
            emit({"benchmark": "api_background", **with_background(env, key, ids, seconds, pg, redis.url, write_key),
                  "target_rps": TARGET_RPS, "monitors": monitors, "days": days, "phase_s": seconds})
            return
        if args.refresh_cost:
            emit({"benchmark": "api_refresh", **refresh_cost(env, key, ids, seconds, pg.datadir),
                  "cache_s": Settings().stats_cache_seconds, "target_rps": TARGET_RPS, "monitors": monitors,
                  "days": days, "phase_s": seconds})
            return
        if args.observe:
            emit({"benchmark": "api_observe", **observe_overhead(env, key, ids, seconds),
                  "monitors": monitors, "days": days, "phase_s": seconds})
            return
        limited_env = {**env, "VIGIL_RATE_LIMIT_ENABLED": "1", "VIGIL_RATE_LIMIT_PER_MINUTE": str(10**9)}
        with served("api.app:create_app", env, factory=True) as host, \
                served("api.app:create_app", limited_env, factory=True) as limited_host:
            warm_up(host, key, ids)
            warm_up(limited_host, key, ids)
            unlimited_caps, limited_caps = alternating_capacity((host, limited_host), seconds, env)
            stats_cap = unlimited_caps[0]
            if args.profile:  # one more capacity phase, sampled, kept out of the figures above
                # py-spy is installed beside this Python (the virtualenv's bin) when not on PATH.
                spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
                sampler = subprocess.Popen([spy, "record", "-p", str(SERVER_PIDS[host]), "-d", str(seconds + 1),
                                            "-r", "200", "-f", "raw", "-o", args.profile, "--nonblocking"])
                profiled = capacity_with_cpu(host, seconds, env)
                sampler.wait(60)
            stats_rate = run_fixed_rate(host, "stats", seconds, env)
            stats_rate_locust = run_locust(host, "StatsUser", RATE_USERS, seconds, TARGET_RPS / RATE_USERS, env)
        off_rps, on_rps = (sum(r["rps"] for r in caps) for caps in (unlimited_caps, limited_caps))
        off_cpu, on_cpu = (sum(r["cpu_us"] for r in caps) / len(caps) for caps in (unlimited_caps, limited_caps))
        with served("api.app:create_app", {**env, "VIGIL_STATS_CACHE_SECONDS": "0"}, factory=True) as host:
            warm_up(host, key, ids)
            uncached_cap = run_locust(host, "StatsUser", CAPACITY_USERS, seconds, 0, env)
        with served("benchmarks.baseline_app:app", env) as host:
            base_cap = capacity_with_cpu(host, seconds, env, user="BaselineUser")
            base_rate = run_fixed_rate(host, "baseline", seconds, env)
            base_rate_locust = run_locust(host, "BaselineUser", RATE_USERS, seconds, TARGET_RPS / RATE_USERS, env)

    print(f"{'phase':<32}{'rps':>9}{'p50 ms':>9}{'p99 ms':>9}{'failures':>10}{'server us/req':>13}")
    for name, r in (("stats, capacity", stats_cap), (f"stats, {TARGET_RPS} req/s", stats_rate),
                    (f"stats, {TARGET_RPS} req/s, locust", stats_rate_locust),
                    ("stats uncached, capacity", uncached_cap),
                    *((f"capacity, limits off {i}", r) for i, r in enumerate(unlimited_caps, 1)),
                    *((f"capacity, limits on {i}", r) for i, r in enumerate(limited_caps, 1)),
                    ("baseline, capacity", base_cap), (f"baseline, {TARGET_RPS} req/s", base_rate),
                    (f"baseline, {TARGET_RPS} req/s, locust", base_rate_locust)):
        cpu = f"{r['cpu_us']:>13.0f}" if "cpu_us" in r else ""
        print(f"{name:<32}{r['rps']:>9.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['failures']:>10}{cpu}")
    print(f"p99 ms per endpoint at {TARGET_RPS} req/s: {stats_rate['endpoints']}")
    shares = profile_shares(args.profile) if args.profile else None
    if shares:
        print(f"the stats server's time in a capacity phase sampled by py-spy ({profiled['rps']:.0f} req/s, "
              f"{profiled['cpu_us']:.0f} us/request): " + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))
    emit({"rps": round(stats_cap["rps"], 1), "p99_ms": stats_rate["p99_ms"],
          "baseline_rps": round(base_cap["rps"], 1),
          "ratio_vs_baseline": round(stats_cap["rps"] / base_cap["rps"], 3) if base_cap["rps"] else None,
          "rps_at_target": round(stats_rate["rps"], 1), "target_rps": TARGET_RPS,
          "p99_ms_at_capacity": stats_cap["p99_ms"], "baseline_p99_ms": base_rate["p99_ms"],
          "p50_ms": stats_rate["p50_ms"], "baseline_p50_ms": base_rate["p50_ms"],
          "send_lag_p99_ms": max(stats_rate["send_lag_p99_ms"], base_rate["send_lag_p99_ms"]),
          "p99_ms_locust": stats_rate_locust["p99_ms"], "baseline_p99_ms_locust": base_rate_locust["p99_ms"],
          "server_cpu_us_per_request": [round(stats_cap["cpu_us"], 1), round(base_cap["cpu_us"], 1)],
          "server_cost_ratio": round(base_cap["cpu_us"] / stats_cap["cpu_us"], 3) if stats_cap["cpu_us"] else None,
          "uncached_rps": round(uncached_cap["rps"], 1), "uncached_p99_ms_at_capacity": uncached_cap["p99_ms"],
          "cache_s": Settings().stats_cache_seconds,
          "ratelimit_on_rps": round(on_rps / len(limited_caps), 1),
          "ratelimit_overhead": round(off_rps / on_rps - 1, 3) if on_rps else None,
          "ratelimit_cpu_us_per_request": [round(off_cpu, 1), round(on_cpu, 1)],
          "ratelimit_cpu_overhead": round(on_cpu / off_cpu - 1, 3) if off_cpu else None,
          "failures": sum(r["failures"] for r in (stats_cap, stats_rate, stats_rate_locust, uncached_cap,
                                                  *unlimited_caps[1:], *limited_caps)),
          "monitors": monitors, "days": days, "phase_s": seconds,
          **({"profile_shares": shares} if shares else {})})


if __name__ == "__main__":
    main()
