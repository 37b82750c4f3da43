"""Check pipeline benchmark: N monitors against a local nginx at a fixed rate through the
whole pipeline (scheduler, Redis queue, worker with its writer, as real processes), and in
the same run Prometheus blackbox_exporter probing the same target at the same rate.

    python -m benchmarks.checks            # 1,000 checks/s (10,000 monitors every 10 s), 60 s
    python -m benchmarks.checks --quick    # 300 checks/s, 15 s
    python -m benchmarks.checks --scale    # 100,000 monitors every 60 s (1,667 checks/s), 120 s
    python -m benchmarks.checks --monitors 100000 --interval 60 --soak-minutes 30 --no-baseline
    python -m benchmarks.checks --observe  # the pipeline alone, observability off and on

With --observe the pipeline runs four times, observability off, on, on, off (so a drift
in the machine's load hits both alike), and observability_cpu_overhead = CPU per check
with / without - 1 (on: metrics served and scraped, JSON logs and traces at a 1 % sample,
benchmarks/observe.py).

Measurement starts once results are flowing (the worker and scheduler have started) plus
a warm-up. ``--soak-minutes N`` measures N minutes after a warm-up of
``--soak-warmup-minutes`` (by default long enough to include the scheduler's first full
refresh of its monitors and a whole job lifetime in Redis, after which Redis holds as many
job results as it will: 7 minutes with the default settings), samples every process's
resident memory every minute from the first results on and prints the series;
``rss_growth`` is the largest relative growth over the measured window among the
scheduler, the worker and Redis (PostgreSQL's, which grows as its buffers fill, is
reported beside), ``rss_growth_cold`` the same from the first results to the end. The
baseline probes for at most 60 s of the same rate.

CPU is each process's own accounting (/proc/<pid>/stat, user + system) over the measured
window: for Vigil the scheduler, the worker and redis-server; for the baseline the
exporter alone (not the client driving its /probe endpoint, not nginx). PostgreSQL's CPU
is reported beside, not counted: the exporter stores nothing. The two run one after the
other so they do not compete for the machine's cores."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import subprocess
import sys
import time

import psycopg

from benchmarks.harness import emit, observability_env, scraping, throwaway_postgres, throwaway_redis
from benchmarks.observe import PLAIN_ENV, observe_env, trace_sink
from benchmarks.targets import blackbox_exporter, children_of, cpu_of, nginx, rss_mb
from ingest.scheduler import FULL_REFRESH_SECONDS
from ingest.slots import phase_for, slots_between
from vigil.constants import ErrorKind, slot_job_lifetime
from vigil.migrate import migrate
from vigil.settings import Settings

INTERVAL_S = 10
SCALE = (100_000, 60, 120)  # --scale: monitors, interval, measured seconds


def add_monitors(dsn: str, n: int, target: str, interval_s: int) -> list[int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (name) VALUES ('bench')")
        conn.execute("INSERT INTO regions (name) VALUES ('local') ON CONFLICT DO NOTHING")
        return [r[0] for r in conn.execute(
            "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, created_at, updated_at) "
            "SELECT 1, 'm' || g, 'http', %s, %s, 2000, now(), now() "
            "FROM generate_series(1, %s) g RETURNING id", (target, interval_s, n))]


def spawn(settings: Settings, command: str, **env: str) -> subprocess.Popen:
    full_env = {**os.environ, "VIGIL_DATABASE_URL": settings.database_url, "VIGIL_REDIS_URL": settings.redis_url,
                "VIGIL_ALLOW_PRIVATE_TARGETS": "1", "VIGIL_LOG_LEVEL": "WARNING", **env}
    return subprocess.Popen([sys.executable, "-m", "vigil", command], env=full_env)


def window_figures(dsn: str, ids: list[int], interval_s: int, t0: int, t1: int) -> dict:
    expected = sum(len(slots_between(t0, t1, interval_s, phase_for(m, interval_s))) for m in ids)
    with psycopg.connect(dsn) as conn:
        real, up, p50, p99 = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE up), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY lateness_ms), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY lateness_ms) "
            "FROM check_results WHERE time >= to_timestamp(%s) AND time < to_timestamp(%s) "
            "AND error_kind <> %s", (t0, t1, int(ErrorKind.missed))).fetchone()
    return {"expected": expected, "checked": real, "up": up, "missed": expected - real,
            "lateness_p50_s": (p50 or 0) / 1000, "lateness_p99_s": (p99 or 0) / 1000}


def wait_for_results(dsn: str, limit_s: float = 120) -> None:
    """Until the first results are stored: the worker and scheduler have started."""
    deadline = time.monotonic() + limit_s
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not conn.execute("SELECT EXISTS (SELECT FROM check_results)").fetchone()[0]:
            if time.monotonic() > deadline:
                raise SystemExit(f"no check results after {limit_s:.0f} s: the pipeline did not start")
            time.sleep(0.5)


def memory_of(pids: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(rss_mb(p) for p in group if os.path.exists(f"/proc/{p}")) for name, group in pids.items()}


# The processes whose memory growth counts (PostgreSQL's is reported beside).
GROWING = ("scheduler", "worker", "redis")


def growth(start: dict[str, float], end: dict[str, float]) -> dict[str, float]:
    return {k: (end[k] - start[k]) / start[k] if start[k] else 0.0 for k in start}


def default_soak_warmup_minutes(settings: Settings) -> int:
    """Until the memory a steady pipeline holds is all there: the scheduler's first full
    refresh has run and Redis holds a whole job lifetime of results, plus a minute."""
    steady_s = max(FULL_REFRESH_SECONDS, slot_job_lifetime(settings.scheduler_max_catchup_seconds)) + 60
    return math.ceil(steady_s / 60)


class MemorySeries:
    """Every process's resident memory (MB) from the first results on: a sample at the
    start, then one every ``every_s`` seconds while the run sleeps (none when None)."""

    def __init__(self, groups, every_s: float | None) -> None:
        self.groups, self.every_s = groups, every_s
        self.started = time.monotonic()
        self.samples = [self.sample()]

    def sample(self) -> dict[str, float]:
        return {"minute": round((time.monotonic() - self.started) / 60, 1),
                **{k: round(v, 1) for k, v in memory_of(self.groups()).items()}}

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.every_s is None:
                time.sleep(left)
                return
            due = self.started + len(self.samples) * self.every_s
            time.sleep(max(0.0, min(left, due - time.monotonic())))
            if time.monotonic() >= due:
                self.samples.append(self.sample())


def run_pipeline(target: str, monitors: int, interval_s: int, seconds: int, warmup: int,
                 profile: str | None, env: dict[str, str] | None = None, sample_s: float | None = None) -> dict:
    """``sample_s``: sample every process's memory this often from the first results on."""
    with throwaway_postgres() as pg, throwaway_redis() as redis:
        settings = Settings(database_url=pg.dsn, redis_url=redis.url)
        migrate(settings)
        ids = add_monitors(pg.dsn, monitors, target, interval_s)
        procs = {name: spawn(settings, name, **(env or {})) for name in ("scheduler", "worker")}
        try:
            wait_for_results(pg.dsn)
            postmaster = int((pg.datadir / "postmaster.pid").read_text().split()[0])
            ours = {"scheduler": procs["scheduler"].pid, "worker": procs["worker"].pid, "redis": redis.proc.pid}

            def groups() -> dict[str, list[int]]:
                return {k: [pid] for k, pid in ours.items()} | {"postgres": [postmaster, *children_of(postmaster)]}
            series = MemorySeries(groups, sample_s)
            series.sleep(warmup)
            t0 = int(time.time()) + 1
            time.sleep(t0 - time.time())
            if profile:  # py-spy (pip install py-spy) samples the worker through the window
                subprocess.Popen(["py-spy", "record", "-p", str(ours["worker"]), "-d", str(seconds), "-r", "200",
                                  "-f", "raw", "-o", profile, "--nonblocking"])
            rss0 = memory_of(groups())
            cpu0 = {k: cpu_of([pid]) for k, pid in ours.items()}
            pg0 = cpu_of(groups()["postgres"])
            series.sleep(seconds)
            cpu1 = {k: cpu_of([pid]) for k, pid in ours.items()}
            pg1 = cpu_of(groups()["postgres"])
            rss1 = memory_of(groups())
            t1 = t0 + seconds
            time.sleep(3)  # the window's last checks and flushes land
            figures = window_figures(pg.dsn, ids, interval_s, t0, t1)
        finally:
            for p in procs.values():
                p.terminate()
            for p in procs.values():
                p.wait(30)
    checked = max(1, figures["checked"])
    per_process = {f"{k}_cpu_ms_per_check": (cpu1[k] - cpu0[k]) * 1000 / checked for k in cpu0}
    rss_cold = {k: v for k, v in series.samples[0].items() if k != "minute"}
    window, cold = growth(rss0, rss1), growth(rss_cold, rss1)
    return {**figures, **per_process, "checks_per_s": figures["checked"] / seconds,
            "cpu_ms_per_check": sum(per_process.values()),
            "postgres_cpu_ms_per_check": (pg1 - pg0) * 1000 / checked, "worker_rss_mb": rss1["worker"],
            "rss_mb_start": {k: round(v, 1) for k, v in rss0.items()},
            "rss_mb_end": {k: round(v, 1) for k, v in rss1.items()},
            "rss_mb_cold": rss_cold, "rss_series": series.samples,
            "rss_growth": max(window[k] for k in GROWING), "postgres_rss_growth": window["postgres"],
            "rss_growth_cold": max(cold[k] for k in GROWING), "postgres_rss_growth_cold": cold["postgres"]}


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
                r = run_pipeline(target, monitors, INTERVAL_S, seconds, warmup, None, env)
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


def print_series(samples: list[dict[str, float]]) -> None:
    names = [k for k in samples[0] if k != "minute"]
    print("  minute " + " ".join(f"{n:>9}" for n in names))
    for row in samples:
        print(f"  {row['minute']:>6.1f} " + " ".join(f"{row[n]:>9.1f}" for n in names))


def main(monitors: int, interval_s: int, seconds: int, warmup: int, profile: str | None,
         baseline: bool, soak: bool) -> None:
    """With ``soak``, ``warmup`` is the soak's warm-up and memory is sampled every minute."""
    rate = monitors / interval_s
    with nginx() as target:
        after = f" after a warm-up of {warmup / 60:g} minutes" if soak else ""
        print(f"Vigil: {monitors} monitors every {interval_s} s ({rate:.0f} checks/s) for {seconds} s{after} ...",
              flush=True)
        vigil = run_pipeline(target, monitors, interval_s, seconds, warmup, profile, sample_s=60 if soak else None)
        print(f"  {vigil['checks_per_s']:.0f} checks/s, {vigil['cpu_ms_per_check']:.3f} ms CPU/check "
              f"(scheduler {vigil['scheduler_cpu_ms_per_check']:.3f}, worker {vigil['worker_cpu_ms_per_check']:.3f}, "
              f"redis {vigil['redis_cpu_ms_per_check']:.3f}; PostgreSQL beside: {vigil['postgres_cpu_ms_per_check']:.3f}), "
              f"lateness p99 "
              f"{vigil['lateness_p99_s']:.3f} s, missed {vigil['missed']}, worker RSS {vigil['worker_rss_mb']:.0f} MB")
        if soak:
            print(f"  RSS MB every minute from the first results (the window starts after the {warmup / 60:g}-minute "
                  f"warm-up):")
            print_series(vigil["rss_series"])
            print(f"  cold start to end: RSS MB {vigil['rss_mb_cold']} -> {vigil['rss_mb_end']}: "
                  f"growth {vigil['rss_growth_cold']:.3f} (PostgreSQL {vigil['postgres_rss_growth_cold']:.3f})")
        print(f"  RSS MB at start {vigil['rss_mb_start']}, at end {vigil['rss_mb_end']}: "
              f"growth {vigil['rss_growth']:.3f} (PostgreSQL {vigil['postgres_rss_growth']:.3f})")
        bbe = None
        if baseline:
            probe_s = min(seconds, 60)
            print(f"blackbox_exporter: {rate:.0f} probes/s for {probe_s} s ...", flush=True)
            bbe = run_blackbox(target, round(rate), probe_s)
            print(f"  {bbe['probes_per_s']:.0f} probes/s ({bbe['probes_ok']} ok), "
                  f"{bbe['bbe_cpu_ms_per_probe']:.3f} ms CPU/probe")
    figures = {"benchmark": "checks", "rate": round(rate, 1), "seconds": seconds, "monitors": monitors,
               "interval_s": interval_s, "checks_per_s": round(vigil["checks_per_s"], 1),
               "cpu_ms_per_check": round(vigil["cpu_ms_per_check"], 4),
               **{f"{k}_cpu_ms_per_check": round(vigil[f"{k}_cpu_ms_per_check"], 4)
                  for k in ("scheduler", "worker", "redis", "postgres")},
               "lateness_p50_s": round(vigil["lateness_p50_s"], 3), "lateness_p99_s": round(vigil["lateness_p99_s"], 3),
               "missed": vigil["missed"], "checks_up": vigil["up"], "worker_rss_mb": round(vigil["worker_rss_mb"], 1),
               "rss_growth": round(vigil["rss_growth"], 4), "postgres_rss_growth": round(vigil["postgres_rss_growth"], 4)}
    if soak:
        figures |= {"rss_mb_start": vigil["rss_mb_start"], "rss_mb_end": vigil["rss_mb_end"],
                    "soak_warmup_minutes": round(warmup / 60, 2), "rss_mb_cold": vigil["rss_mb_cold"],
                    "rss_growth_cold": round(vigil["rss_growth_cold"], 4),
                    "postgres_rss_growth_cold": round(vigil["postgres_rss_growth_cold"], 4),
                    "rss_series": vigil["rss_series"]}
    if bbe:
        ratio = vigil["cpu_ms_per_check"] / bbe["bbe_cpu_ms_per_probe"]
        print(f"CPU per check vs blackbox_exporter: {ratio:.3f} (goal <= 0.25)")
        figures |= {"bbe_cpu_ms_per_probe": round(bbe["bbe_cpu_ms_per_probe"], 4),
                    "bbe_probes_per_s": round(bbe["probes_per_s"], 1), "cpu_ratio_vs_bbe": round(ratio, 3)}
    emit(figures)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text}")
    return value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="300 checks/s for 15 s instead of 1,000 for 60 s")
    mode.add_argument("--scale", action="store_true", help="100,000 monitors every 60 s, measured for 120 s")
    parser.add_argument("--rate", type=_positive, help="checks per second, as monitors every 10 s (overrides the mode's)")
    parser.add_argument("--monitors", type=_positive, help="monitors (overrides the mode's)")
    parser.add_argument("--interval", type=_positive, help="seconds between a monitor's checks (overrides the mode's)")
    parser.add_argument("--seconds", type=_positive, help="measured seconds (overrides the mode's)")
    parser.add_argument("--soak-minutes", type=_positive, metavar="N",
                        help="measure N minutes after a warm-up, sampling every process's RSS every minute")
    parser.add_argument("--soak-warmup-minutes", type=_positive, metavar="M",
                        help="with --soak-minutes: minutes before the window starts (default: the "
                             "scheduler's first full refresh and a job lifetime in Redis, plus a minute; "
                             f"{default_soak_warmup_minutes(Settings())} with these settings)")
    parser.add_argument("--no-baseline", action="store_true", help="skip blackbox_exporter")
    parser.add_argument("--profile", metavar="FILE", help="record a py-spy profile of the worker (raw format)")
    parser.add_argument("--observe", action="store_true",
                        help="measure the CPU cost of JSON logs and 1 %% traces (no blackbox_exporter run)")
    args = parser.parse_args()
    if args.observe:
        main_observe(args.rate or (300 if args.quick else 1000), args.seconds or (15 if args.quick else 60),
                     warmup=4 if args.quick else 8)
        raise SystemExit(0)
    monitors, interval, seconds = SCALE if args.scale else ((300 if args.quick else 1000) * INTERVAL_S, INTERVAL_S,
                                                            15 if args.quick else 60)
    if args.rate and args.monitors:
        parser.error("give --rate or --monitors, not both")
    interval = args.interval or interval
    monitors = args.monitors or (args.rate * interval if args.rate else monitors)
    if args.soak_warmup_minutes and not args.soak_minutes:
        parser.error("--soak-warmup-minutes goes with --soak-minutes")
    seconds = args.soak_minutes * 60 if args.soak_minutes else (args.seconds or seconds)
    warmup = 2 if args.quick else 5
    if args.soak_minutes:
        warmup = 60 * (args.soak_warmup_minutes or default_soak_warmup_minutes(Settings()))
    main(monitors, interval, seconds, warmup=warmup, profile=args.profile,
         baseline=not args.no_baseline, soak=bool(args.soak_minutes))
