"""The capacity model: from measured per-unit costs to the processes, cores, memory, Redis and
disk a number of monitors needs, and the first part to run out (docs/capacity.md).

Pure arithmetic on a dict of costs, so the table is reproducible from a benchmark's JSON line
and testable without running anything. Every monitor is checked from every region (the
multi-region quorum setup); one check is one result row."""

from __future__ import annotations

import math

from vigil.constants import slot_job_lifetime

SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
REGIONS = 5
INTERVAL_S = 60
# Processes are sized to run at this share of a core, leaving room for bursts and retries.
TARGET_UTILISATION = 0.7
# Long-running services run twice for availability (each is safe to run twice).
MIN_REPLICAS = 2
RAW_RETENTION_DAYS = 30
# Redis holds each slot job (queued, or its result) this long: the default catch-up plus a minute.
JOB_LIFETIME_S = slot_job_lifetime(300)
# API load assumed: one request per monitor per minute (dashboards, status pages, automation).
API_REQUESTS_PER_MONITOR_MINUTE = 1.0

# What removes each limit, in the table's words.
REMEDIES = {
    "scheduler": "one scheduler per region group: its cost is per slot and it is a single process",
    "redis": "a Redis per region group (queues are per region), or larger batches (VIGIL_BATCH_SIZE): "
             "Redis is single-threaded and its cost is per job",
    "evaluator": "evaluating rule kinds or accounts in parallel ticks: one tick is one session's statements",
    "aggregator": "rolling hash partitions or accounts in parallel: one bucket is one statement",
}


def _processes(cores: float, per_process_cores: float = TARGET_UTILISATION) -> int:
    return max(MIN_REPLICAS, math.ceil(cores / per_process_cores))


def size(costs: dict, monitors: int, regions: int = REGIONS, interval_s: int = INTERVAL_S) -> dict:
    """One row of the table. ``costs`` holds the measured per-unit figures (see
    benchmarks/capacity.py ``unit_costs``)."""
    checks_per_s = monitors * regions / interval_s
    cores = {
        "worker": checks_per_s * costs["worker_cpu_ms_per_check"] / 1000,
        "scheduler": checks_per_s * costs["scheduler_cpu_ms_per_check"] / 1000,
        "redis": checks_per_s * costs["redis_cpu_ms_per_check"] / 1000,
        "postgres_ingest": checks_per_s / costs["ingest_rows_per_s"],
        # each tick reads every (rule, region) pair; it must end within its minute
        "evaluator": monitors * regions / costs["evaluator_rules_per_s"] / 60,
        # one hour's rows rolled once an hour
        "aggregator": checks_per_s * 3600 / 1e6 * costs["aggregate_s_per_million_rows"] / 3600,
        "api": monitors * API_REQUESTS_PER_MONITOR_MINUTE / 60 * costs["api_cpu_ms_per_request"] / 1000,
    }
    # A single process (or single-threaded server) cannot use more than one core. PostgreSQL's
    # ingest is not among them: each worker writes through its own connection (backend).
    single = {k: cores[k] for k in ("scheduler", "redis", "evaluator", "aggregator")}
    load, bottleneck = max((load, part) for part, load in single.items())
    over = load > TARGET_UTILISATION
    workers_per_region = _processes(cores["worker"] / regions)
    api = _processes(cores["api"])
    processes = {"worker": workers_per_region * regions, "api": api, "scheduler": MIN_REPLICAS,
                 "aggregator": MIN_REPLICAS, "evaluator": MIN_REPLICAS, "notifier": MIN_REPLICAS}
    memory_mb = (processes["worker"] * costs["worker_rss_mb"] + api * costs["api_rss_mb"]
                 + MIN_REPLICAS * (costs["scheduler_rss_mb"] + costs["scheduler_mb_per_1k_monitors"] * monitors / 1000)
                 + MIN_REPLICAS * (costs["aggregator_rss_mb"] + costs["evaluator_rss_mb"] + costs["notifier_rss_mb"]))
    jobs_kept = checks_per_s * JOB_LIFETIME_S / costs["batch_size"]
    rows_per_day = checks_per_s * 86400
    return {
        "monitors": monitors, "regions": regions, "interval_s": interval_s,
        "checks_per_s": round(checks_per_s),
        "processes": processes,
        "cores": round(sum(cores.values()), 1),
        "cores_by_part": {k: round(v, 2) for k, v in cores.items()},
        "memory_gb": round(memory_mb / 1024, 1),
        "redis_mb": round(costs["redis_base_mb"] + jobs_kept * costs["redis_kb_per_job"] / 1024),
        "disk_gb_per_day": round(rows_per_day * costs["bytes_per_row"] / 1e9, 1),
        "disk_gb_raw_retention": round(rows_per_day * RAW_RETENTION_DAYS * costs["bytes_per_row"] / 1e9),
        # the single-process part nearest its one core, and whether it is past the target
        "bottleneck": bottleneck, "bottleneck_load_cores": round(load, 2), "bottleneck_reached": over,
        "remedy": REMEDIES[bottleneck] if over else "none needed yet",
    }


def table(costs: dict, sizes: tuple[int, ...] = SIZES) -> list[dict]:
    return [size(costs, n) for n in sizes]


def markdown(rows: list[dict]) -> str:
    lines = ["| monitors | checks/s | workers (per region) | API | cores | memory | Redis | disk/day (30 d raw) | nearest single-process limit |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        p = r["processes"]
        neck = f"{r['bottleneck']}: {r['bottleneck_load_cores']} of 1 core" + ("" if r["bottleneck_reached"] else " (fits)")
        lines.append(f"| {r['monitors']:,} | {r['checks_per_s']:,} | {p['worker']} ({p['worker'] // r['regions']}) "
                     f"| {p['api']} | {r['cores']} | {r['memory_gb']} GB | {r['redis_mb']} MB "
                     f"| {r['disk_gb_per_day']} GB ({r['disk_gb_raw_retention']:,} GB) | {neck} |")
    return "\n".join(lines)
