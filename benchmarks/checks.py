"""Check pipeline benchmark: N monitors against a local nginx at a fixed rate through the
whole pipeline (scheduler, Redis queue, worker with its writer, as real processes), and in
the same run Prometheus blackbox_exporter probing the same target at the same rate.

    python -m benchmarks.checks            # 1,000 checks/s (10,000 monitors every 10 s), 60 s
    python -m benchmarks.checks --quick    # 300 checks/s, 15 s
    python -m benchmarks.checks --observe  # the pipeline alone, observability off and on

With --observe the pipeline runs four times, observability off, on, on, off (so a drift
in the machine's load hits both alike), and observability_cpu_overhead = CPU per check
with / without - 1 (on: JSON logs and traces at a 1 % sample, benchmarks/observe.py).

CPU is each process's own accounting (/proc/<pid>/stat, user + system) over the measured
window: for Vigil the scheduler, the worker and redis-server; for the baseline the
exporter alone (not the client driving its /probe endpoint, not nginx). PostgreSQL's CPU
is reported beside, not counted: the exporter stores nothing. The two run one after the
other so they do not compete for the machine's cores."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

import psycopg

from benchmarks.harness import emit, observability_env, scraping, throwaway_postgres, throwaway_redis
from benchmarks.observe import PLAIN_ENV, observe_env, trace_sink
from benchmarks.targets import blackbox_exporter, children_of, cpu_of, nginx, rss_mb
from ingest.slots import phase_for, slots_between
from vigil.migrate import migrate
from vigil.settings import Settings

INTERVAL_S = 10


def add_monitors(dsn: str, n: int, target: str) -> list[int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (name) VALUES ('bench')")
        conn.execute("INSERT INTO regions (name) VALUES ('local') ON CONFLICT DO NOTHING")
        return [r[0] for r in conn.execute(
            "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, created_at, updated_at) "
            "SELECT 1, 'm' || g, 'http', %s, %s, 2000, now(), now() "
            "FROM generate_series(1, %s) g RETURNING id", (target, INTERVAL_S, n))]


def spawn(settings: Settings, command: str, **env: str) -> subprocess.Popen:
    full_env = {**os.environ, "VIGIL_DATABASE_URL": settings.database_url, "VIGIL_REDIS_URL": settings.redis_url,
                "VIGIL_ALLOW_PRIVATE_TARGETS": "1", "VIGIL_LOG_LEVEL": "WARNING", **env}
    return subprocess.Popen([sys.executable, "-m", "vigil", command], env=full_env)


def window_figures(dsn: str, ids: list[int], t0: int, t1: int) -> dict:
    expected = sum(len(slots_between(t0, t1, INTERVAL_S, phase_for(m, INTERVAL_S))) for m in ids)
    with psycopg.connect(dsn) as conn:
        real, up, p50, p99 = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE up), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY lateness_ms), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY lateness_ms) "
            "FROM check_results WHERE time >= to_timestamp(%s) AND time < to_timestamp(%s) "
            "AND error_kind <> 13", (t0, t1)).fetchone()
    return {"expected": expected, "checked": real, "up": up, "missed": expected - real,
            "lateness_p50_s": (p50 or 0) / 1000, "lateness_p99_s": (p99 or 0) / 1000}


def run_pipeline(target: str, monitors: int, seconds: int, warmup: int, profile: str | None,
                 env: dict[str, str] | None = None) -> dict:
    with throwaway_postgres() as pg, throwaway_redis() as redis:
        settings = Settings(database_url=pg.dsn, redis_url=redis.url)
        migrate(settings)
        ids = add_monitors(pg.dsn, monitors, target)
        procs = {name: spawn(settings, name, **(env or {})) for name in ("scheduler", "worker")}
        try:
            time.sleep(warmup)
            postmaster = int((pg.datadir / "postmaster.pid").read_text().split()[0])
            ours = {"scheduler": procs["scheduler"].pid, "worker": procs["worker"].pid, "redis": redis.proc.pid}
            t0 = int(time.time()) + 1
            time.sleep(t0 - time.time())
            if profile:  # py-spy (pip install py-spy) samples the worker through the window
                subprocess.Popen(["py-spy", "record", "-p", str(ours["worker"]), "-d", str(seconds), "-r", "200",
                                  "-f", "raw", "-o", profile, "--nonblocking"])
            cpu0 = {k: cpu_of([pid]) for k, pid in ours.items()}
            pg0 = cpu_of([postmaster, *children_of(postmaster)])
            time.sleep(seconds)
            cpu1 = {k: cpu_of([pid]) for k, pid in ours.items()}
            pg1 = cpu_of([postmaster, *children_of(postmaster)])
            t1 = t0 + seconds
            worker_rss = rss_mb(procs["worker"].pid)
            time.sleep(3)  # the window's last checks and flushes land
            figures = window_figures(pg.dsn, ids, t0, t1)
        finally:
            for p in procs.values():
                p.terminate()
            for p in procs.values():
                p.wait(30)
    checked = max(1, figures["checked"])
    per_process = {f"{k}_cpu_ms_per_check": (cpu1[k] - cpu0[k]) * 1000 / checked for k in cpu0}
    return {**figures, **per_process, "checks_per_s": figures["checked"] / seconds,
            "cpu_ms_per_check": sum(per_process.values()),
            "postgres_cpu_ms_per_check": (pg1 - pg0) * 1000 / checked, "worker_rss_mb": worker_rss}


async def read_response(reader: asyncio.StreamReader) -> bytes:
    """The body of one HTTP/1.1 response, sized by Content-Length or chunked."""
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    if b"content-length:" in head:
        return await reader.readexactly(int(head.split(b"content-length:")[1].split(b"\r\n")[0]))
    body = b""
    while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
        body += (await reader.readexactly(size + 2))[:-2]
    await reader.readuntil(b"\r\n")
    return body


async def drive_probes(base: str, target: str, rate: int, seconds: int) -> tuple[int, int]:
    """GET /probe at a fixed rate over keep-alive connections, with a minimal HTTP/1.1
    client so the driver itself does not run out of CPU first; returns (answered, succeeded)."""
    host, port = base.removeprefix("http://").split(":")
    request = (f"GET /probe?target={target}&module=http_2xx HTTP/1.1\r\nHost: {host}\r\n\r\n").encode()
    tokens: asyncio.Queue[bool] = asyncio.Queue()
    answered = succeeded = 0

    async def connection() -> None:
        nonlocal answered, succeeded
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while await tokens.get():
                writer.write(request)
                body = await read_response(reader)
                answered += 1
                succeeded += b"\nprobe_success 1" in body
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(64)]
    start = time.monotonic()
    for i in range(rate * seconds):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tokens.put_nowait(True)
    for _ in workers:
        tokens.put_nowait(False)
    await asyncio.gather(*workers)
    return answered, succeeded


def run_blackbox(target: str, rate: int, seconds: int) -> dict:
    with blackbox_exporter() as (base, pid):
        asyncio.run(drive_probes(base, target, rate, 1))  # warm-up
        cpu0 = cpu_of([pid])
        started = time.monotonic()
        answered, succeeded = asyncio.run(drive_probes(base, target, rate, seconds))
        elapsed = time.monotonic() - started
        cpu1 = cpu_of([pid])
    return {"probes": answered, "probes_ok": succeeded, "probes_per_s": answered / elapsed,
            "bbe_cpu_ms_per_probe": (cpu1 - cpu0) * 1000 / max(1, answered)}


def main_observe(rate: int, seconds: int, warmup: int) -> None:
    monitors = rate * INTERVAL_S
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    with nginx() as target, trace_sink() as sink:
        for mode in ("off", "on", "on", "off"):
            print(f"observability {mode}: {monitors} monitors, {rate} checks/s for {seconds} s ...", flush=True)
            # On: metrics served on a port per process and scraped every few seconds, JSON
            # logs, traces at a 1 % sample.
            metrics_env, urls = observability_env(mode == "on", ("scheduler", "worker"))
            env = {**observe_env(sink), **metrics_env} if mode == "on" else PLAIN_ENV
            with scraping(urls):
                r = run_pipeline(target, monitors, seconds, warmup, None, env)
            runs[mode].append(r)
            print(f"  {r['checks_per_s']:.0f} checks/s, {r['cpu_ms_per_check']:.4f} ms CPU/check "
                  f"(worker {r['worker_cpu_ms_per_check']:.4f}), missed {r['missed']}")
    off, on = (sum(r["cpu_ms_per_check"] for r in runs[m]) / len(runs[m]) for m in ("off", "on"))
    overhead = on / off - 1
    print(f"observability_cpu_overhead: {on:.4f} / {off:.4f} - 1 = {overhead:.3f} (goal <= 0.05)")
    emit({"benchmark": "checks_observe", "rate": rate, "seconds": seconds, "monitors": monitors,
          "cpu_ms_per_check_off": round(off, 4), "cpu_ms_per_check_on": round(on, 4),
          "runs_cpu_ms_per_check": {m: [round(r["cpu_ms_per_check"], 4) for r in rs] for m, rs in runs.items()},
          "observability_cpu_overhead": round(overhead, 3),
          "missed": sum(r["missed"] for rs in runs.values() for r in rs)})


def main(quick: bool, rate: int | None, seconds: int | None, profile: str | None) -> None:
    rate = rate or (300 if quick else 1000)
    seconds = seconds or (15 if quick else 60)
    monitors = rate * INTERVAL_S
    with nginx() as target:
        print(f"Vigil: {monitors} monitors every {INTERVAL_S} s ({rate} checks/s) for {seconds} s ...", flush=True)
        vigil = run_pipeline(target, monitors, seconds, warmup=4 if quick else 8, profile=profile)
        print(f"  {vigil['checks_per_s']:.0f} checks/s, {vigil['cpu_ms_per_check']:.3f} ms CPU/check "
              f"(scheduler {vigil['scheduler_cpu_ms_per_check']:.3f}, worker {vigil['worker_cpu_ms_per_check']:.3f}, "
              f"redis {vigil['redis_cpu_ms_per_check']:.3f}; PostgreSQL beside: {vigil['postgres_cpu_ms_per_check']:.3f}), "
              f"lateness p99 "
              f"{vigil['lateness_p99_s']:.3f} s, missed {vigil['missed']}, worker RSS {vigil['worker_rss_mb']:.0f} MB")
        print(f"blackbox_exporter: {rate} probes/s for {seconds} s ...", flush=True)
        bbe = run_blackbox(target, rate, seconds)
        print(f"  {bbe['probes_per_s']:.0f} probes/s ({bbe['probes_ok']} ok), "
              f"{bbe['bbe_cpu_ms_per_probe']:.3f} ms CPU/probe")
    ratio = vigil["cpu_ms_per_check"] / bbe["bbe_cpu_ms_per_probe"]
    print(f"CPU per check vs blackbox_exporter: {ratio:.2f} (goal <= 0.5)")
    emit({"benchmark": "checks", "rate": rate, "seconds": seconds, "monitors": monitors,
          "checks_per_s": round(vigil["checks_per_s"], 1), "cpu_ms_per_check": round(vigil["cpu_ms_per_check"], 4),
          **{f"{k}_cpu_ms_per_check": round(vigil[f"{k}_cpu_ms_per_check"], 4)
             for k in ("scheduler", "worker", "redis", "postgres")},
          "bbe_cpu_ms_per_probe": round(bbe["bbe_cpu_ms_per_probe"], 4), "bbe_probes_per_s": round(bbe["probes_per_s"], 1),
          "cpu_ratio_vs_bbe": round(ratio, 3), "lateness_p50_s": round(vigil["lateness_p50_s"], 3),
          "lateness_p99_s": round(vigil["lateness_p99_s"], 3), "missed": vigil["missed"],
          "checks_up": vigil["up"], "worker_rss_mb": round(vigil["worker_rss_mb"], 1)})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="300 checks/s for 15 s instead of 1,000 for 60 s")
    parser.add_argument("--rate", type=int, help="checks per second (overrides the mode's)")
    parser.add_argument("--seconds", type=int, help="measured seconds (overrides the mode's)")
    parser.add_argument("--profile", metavar="FILE", help="record a py-spy profile of the worker (raw format)")
    parser.add_argument("--observe", action="store_true",
                        help="measure the CPU cost of JSON logs and 1 %% traces (no blackbox_exporter run)")
    args = parser.parse_args()
    if args.observe:
        main_observe(args.rate or (300 if args.quick else 1000), args.seconds or (15 if args.quick else 60),
                     warmup=4 if args.quick else 8)
    else:
        main(args.quick, args.rate, args.seconds, args.profile)
