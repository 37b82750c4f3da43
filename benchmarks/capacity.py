"""Capacity model: measure per-unit costs on this machine, then size 10k, 100k, 1M and 10M
monitors every 60 s across 5 regions (benchmarks/capacity_model.py; docs/capacity.md).

    python -m benchmarks.capacity --quick    # 60 s confirmation run + the other benchmarks' --quick
    python -m benchmarks.capacity            # 180 s confirmation run + their full runs

Two sources of costs, both measured in this run:
- a confirmation run of one region's share of the 100k row: 100,000 monitors every 60 s
  (1,667 checks/s) against a local nginx, with every service running as a real process
  (API, scheduler, the model's number of workers, aggregator, evaluator, notifier) on a
  throwaway PostgreSQL and Redis. It gives CPU per check of the worker, scheduler, Redis and
  PostgreSQL, each process's resident memory, Redis memory per job, missed slots and
  lateness, and checks the model's prediction for those workers against what they did;
- the other benchmarks, run as they are and read from their last JSON line: ingest (rows/s
  into the hypertable), evaluator (rules/s), queries (rollup seconds per million rows), api
  (CPU per cached request), storage (bytes per row)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import psycopg
import redis

from benchmarks import capacity_model
from benchmarks.checks import add_monitors
from benchmarks.harness import emit, throwaway_postgres, throwaway_redis
from benchmarks.targets import children_of, cpu_of, nginx, rss_mb
from ingest.slots import phase_for, slots_between
from vigil.devcluster import free_port
from vigil.migrate import migrate
from vigil.settings import Settings

CONFIRM_MONITORS = 100_000
SERVICES = ("api", "scheduler", "aggregator", "evaluator", "notifier")


def other_benchmark(name: str, quick: bool) -> dict:
    """Run ``python -m benchmarks.NAME`` and return its last line (JSON)."""
    out = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *(["--quick"] if quick else [])],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def spawn(settings: Settings, command: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "VIGIL_DATABASE_URL": settings.database_url, "VIGIL_REDIS_URL": settings.redis_url,
           "VIGIL_ALLOW_PRIVATE_TARGETS": "1", "VIGIL_LOG_LEVEL": "WARNING", "VIGIL_SECRET_KEY": settings.secret_key}
    return subprocess.Popen([sys.executable, "-m", "vigil", command, *args], env=env)


def confirm(target: str, workers: int, seconds: int, interval_s: int = capacity_model.INTERVAL_S) -> dict:
    """One region's share of the 100k row, every service running; figures over ``seconds``."""
    from notify.crypto import generate_key

    with throwaway_postgres() as pg, throwaway_redis() as server:
        settings = Settings(database_url=pg.dsn, redis_url=server.url, secret_key=generate_key())
        migrate(settings)
        ids = add_monitors(pg.dsn, CONFIRM_MONITORS, target, interval_s)
        procs = {name: spawn(settings, name) for name in SERVICES if name != "api"}
        procs["api"] = spawn(settings, "api", "--port", str(free_port()))
        for i in range(workers):
            procs[f"worker{i}"] = spawn(settings, "worker")
        r = redis.Redis.from_url(server.url)
        try:
            time.sleep(20)  # the scheduler loads 100k monitors; workers and the API start
            postmaster = int((pg.datadir / "postmaster.pid").read_text().split()[0])
            pids = {name: p.pid for name, p in procs.items()} | {"redis": server.proc.pid}
            t0 = int(time.time()) + 1
            time.sleep(t0 - time.time())
            cpu0 = {k: cpu_of([pid]) for k, pid in pids.items()}
            pg0 = cpu_of([postmaster, *children_of(postmaster)])
            mem0 = r.info("memory")["used_memory"]
            time.sleep(seconds)
            cpu1 = {k: cpu_of([pid]) for k, pid in pids.items()}
            pg1 = cpu_of([postmaster, *children_of(postmaster)])
            mem1 = r.info("memory")["used_memory"]
            rss = {k: rss_mb(pid) for k, pid in pids.items() if k != "redis"}
            time.sleep(5)  # the window's last checks land
            figures = window(pg.dsn, ids, t0, t0 + seconds, interval_s)
        finally:
            for p in procs.values():
                p.terminate()
            for p in procs.values():
                p.wait(30)
            r.close()
    checked = max(1, figures["checked"])
    worker_keys = [k for k in cpu0 if k.startswith("worker")]
    per_check = {k: (cpu1[k] - cpu0[k]) * 1000 / checked for k in cpu0}
    return {**figures, "workers": workers, "seconds": seconds,
            "checks_per_s": round(figures["checked"] / seconds, 1),
            "worker_cpu_ms_per_check": round(sum(per_check[k] for k in worker_keys), 4),
            "scheduler_cpu_ms_per_check": round(per_check["scheduler"], 4),
            "redis_cpu_ms_per_check": round(per_check["redis"], 4),
            "postgres_cpu_ms_per_check": round((pg1 - pg0) * 1000 / checked, 4),
            "cpu_cores": {k: round((cpu1[k] - cpu0[k]) / seconds, 3) for k in SERVICES},
            "rss_mb": {k: round(v, 1) for k, v in rss.items()},
            "redis_kb_per_job": round(max(0, mem1 - mem0) / 1024 / max(1, checked / Settings().batch_size), 2),
            "redis_start_mb": round(mem0 / 2**20, 1)}


def window(dsn: str, ids: list[int], t0: int, t1: int, interval_s: int) -> dict:
    expected = sum(len(slots_between(t0, t1, interval_s, phase_for(m, interval_s))) for m in ids)
    with psycopg.connect(dsn) as conn:
        real, p50, p99 = conn.execute(
            "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY lateness_ms), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY lateness_ms) FROM check_results "
            "WHERE time >= to_timestamp(%s) AND time < to_timestamp(%s) AND error_kind <> 13", (t0, t1)).fetchone()
    return {"expected": expected, "checked": real, "missed": expected - real,
            "lateness_p50_s": round((p50 or 0) / 1000, 3), "lateness_p99_s": round((p99 or 0) / 1000, 3)}


def unit_costs(run: dict, others: dict) -> dict:
    """The model's inputs: per-unit costs from the confirmation run and the other benchmarks."""
    rss = run["rss_mb"]
    # The scheduler holds every monitor's slot table: its memory beyond a service that holds
    # none (the aggregator, same imports) is taken as growing with the monitors.
    held = max(0.0, rss["scheduler"] - rss["aggregator"])
    return {**others_costs(others),
            "worker_cpu_ms_per_check": run["worker_cpu_ms_per_check"],
            "scheduler_cpu_ms_per_check": run["scheduler_cpu_ms_per_check"],
            "redis_cpu_ms_per_check": run["redis_cpu_ms_per_check"],
            "worker_rss_mb": max(v for k, v in rss.items() if k.startswith("worker")), "api_rss_mb": rss["api"],
            "scheduler_rss_mb": rss["aggregator"], "scheduler_mb_per_1k_monitors": round(held / CONFIRM_MONITORS * 1000, 3),
            "aggregator_rss_mb": rss["aggregator"], "evaluator_rss_mb": rss["evaluator"],
            "notifier_rss_mb": rss["notifier"],
            "redis_base_mb": run["redis_start_mb"], "redis_kb_per_job": run["redis_kb_per_job"],
            "batch_size": Settings().batch_size}


def main(quick: bool) -> None:
    seconds = 60 if quick else 180
    others = {}
    for name in ("ingest", "evaluator", "queries", "api", "storage"):
        print(f"benchmarks.{name}{' --quick' if quick else ''} ...", flush=True)
        others[name] = other_benchmark(name, quick)
    # The model's worker count for one region of the 100k row, from a first estimate of the
    # per-check cost (the documented full-run figure); the run then measures the real one.
    predicted = capacity_model.size({**PRIOR, **others_costs(others)}, CONFIRM_MONITORS)
    workers = predicted["processes"]["worker"] // predicted["regions"]
    print(f"confirmation: {CONFIRM_MONITORS:,} monitors every {capacity_model.INTERVAL_S} s, {workers} workers, "
          f"{seconds} s ...", flush=True)
    with nginx() as target:
        run = confirm(target, workers, seconds)
    print(f"  {run['checks_per_s']} checks/s, missed {run['missed']}, lateness p99 {run['lateness_p99_s']} s, "
          f"worker {run['worker_cpu_ms_per_check']} ms CPU/check, RSS {run['rss_mb']}", flush=True)
    costs = unit_costs(run, others)
    rows = capacity_model.table(costs)
    print(capacity_model.markdown(rows))
    emit({"benchmark": "capacity", "quick": quick, "confirm_100k": run, "costs": costs,
          "confirm_ok": run["missed"] == 0 and run["lateness_p99_s"] < 1.0,
          "table": [{k: r[k] for k in ("monitors", "checks_per_s", "processes", "cores", "memory_gb", "redis_mb",
                                       "disk_gb_per_day", "bottleneck", "bottleneck_load_cores", "bottleneck_reached")}
                    for r in rows]})


# Per-check figures from docs/benchmarks.md (full checks run), used only to choose how many
# workers the confirmation run starts; every figure in the table is measured in the run.
PRIOR = {"worker_cpu_ms_per_check": 0.296, "scheduler_cpu_ms_per_check": 0.018, "redis_cpu_ms_per_check": 0.008,
         "worker_rss_mb": 80, "api_rss_mb": 100, "scheduler_rss_mb": 100, "scheduler_mb_per_1k_monitors": 0,
         "aggregator_rss_mb": 100, "evaluator_rss_mb": 100, "notifier_rss_mb": 100, "redis_base_mb": 1,
         "redis_kb_per_job": 1, "batch_size": 200}


def others_costs(others: dict) -> dict:
    api_us = others["api"].get("ratelimit_cpu_us_per_request") or [1e6 / others["api"]["rps"]]
    return {"ingest_rows_per_s": others["ingest"]["rows_per_s"],
            "evaluator_rules_per_s": others["evaluator"]["rules_per_s"],
            "aggregate_s_per_million_rows": others["queries"]["aggregate_s_per_million_rows"],
            "api_cpu_ms_per_request": max(api_us) / 1000, "bytes_per_row": others["storage"]["bytes_per_row"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="60 s confirmation, the other benchmarks' --quick")
    main(parser.parse_args().quick)
