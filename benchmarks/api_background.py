"""Real background work beside the API, for `python -m benchmarks.api --with-background`.

- The aggregator and the evaluator, each its own process started as `vigil up` starts them
  (`python -m vigil aggregator`, `python -m vigil evaluator`), with their metrics served on
  free ports: what they did during the phase is read there.
- A results writer standing in for the workers (`python -m benchmarks.api_background`,
  its own process), storing through the workers' own writer (ingest/writer.py: batched
  binary COPY, down monitors announced to the evaluator's immediate pass):
  - a fresh result for every monitor and region at each of its slots (interval and phase
    as the scheduler computes them, ingest/slots.py), DOWN_SHARE of them failures;
  - late results: rows of hours the aggregator already rolled, taken out of check_results
    before the services start (as if a worker's backlog had held them) and written back
    LATE_ROWS_PER_SECOND a second, so each aggregator run has (monitor, hour) pairs to re-roll.
- Alert rules for the evaluator, created through the API: a down, a latency, an uptime and
  an SLO burn-rate rule, each over every monitor of the account. `vigil seed` creates its
  monitors disabled and the evaluator watches enabled monitors only, so they are enabled
  through the API first (no scheduler runs: nothing checks their made-up targets).
- Before the phases, both services are brought to their steady state (see ``prepare``), so
  the measured run and tick are a minute's ordinary work, not a first run's catching up.

The aggregator and the evaluator run once a minute, at the seconds the benchmark sets
(VIGIL_AGGREGATOR_CRON_SECOND, VIGIL_EVALUATOR_CRON_SECOND) so that one run of each falls
inside the measured phase, as one of each falls inside every minute in production."""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from aggregator.packing import pack_closed_chunks
from benchmarks.targets import children_of, cpu_of, cpu_seconds
from vigil.devcluster import Postgres, free_port

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("aggregator", "evaluator")
LATE_ROWS_PER_SECOND = 5
# Rows held back for the late writes: more than the longest run writes back.
LATE_ROWS_HELD = 3000
DOWN_SHARE = 0.02
READY = "writing"
RULES = [
    {"name": "down", "condition": {"kind": "down", "failures": 3}},
    {"name": "slow", "condition": {"kind": "latency", "percentile": 95, "window_s": 300, "threshold_ms": 2000}},
    {"name": "uptime", "condition": {"kind": "uptime", "window_s": 86400, "target_pct": 99.9}},
    {"name": "burn", "condition": {"kind": "slo_burn_rate"}},
]
# Figures read from each service's metrics endpoint: name in the output -> metric sample.
SERVICE_FIGURES = {
    "aggregator": {"runs": "vigil_aggregator_rollup_duration_seconds_count",
                   "run_s": "vigil_aggregator_rollup_duration_seconds_sum",
                   "hours_rolled": "vigil_aggregator_buckets_rolled_total"},
    "evaluator": {"ticks": "vigil_evaluator_tick_duration_seconds_count",
                  "tick_s": "vigil_evaluator_tick_duration_seconds_sum",
                  "rule_pairs_bad_or_open": "vigil_evaluator_rules_evaluated_total",
                  "incidents_opened": "vigil_incidents_opened_total"},
}


def _call(host: str, key: str, method: str, path: str, body: dict) -> None:
    request = urllib.request.Request(f"{host}/api/v1{path}", method=method, data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status in (200, 201), (path, resp.status)


def prepare(host: str, write_key: str, ids: list[int], dsn: str, redis_url: str) -> None:
    """Enable the monitors and create the rules, through the API; then bring both services
    to their steady state, as if they had been running for a while: a fresh history has many
    closed raw chunks whose indexes were never packed, and each run packs two of them
    (aggregator/packing.py), so they are packed first; then `vigil aggregator --once` and
    `vigil evaluator --once` run once (the first tick opens the incidents the history holds)."""
    for monitor_id in ids:
        _call(host, write_key, "PATCH", f"/monitors/{monitor_id}", {"enabled": True})
    for rule in RULES:
        _call(host, write_key, "POST", "/rules", rule)

    async def pack_all() -> None:
        while await pack_closed_chunks(dsn, datetime.now(UTC)):
            pass
    asyncio.run(pack_all())
    for service in SERVICES:
        subprocess.run([sys.executable, "-m", "vigil", service, "--once"], cwd=ROOT, check=True,
                       env={**os.environ, "VIGIL_DATABASE_URL": dsn, "VIGIL_REDIS_URL": redis_url,
                            "VIGIL_LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL)


def postgres_cpu_seconds(datadir: Path) -> float:
    """CPU time so far of a PostgreSQL server's postmaster and its running backends."""
    postmaster = int((datadir / "postmaster.pid").read_text().split()[0])
    return cpu_of([postmaster, *children_of(postmaster)])


class Background:
    """The running processes; ``snapshot()`` reads their work so far."""

    def __init__(self, procs: dict[str, subprocess.Popen], metrics_urls: dict[str, str], datadir: Path) -> None:
        self.procs = procs
        self.metrics_urls = metrics_urls
        self.datadir = datadir

    def snapshot(self) -> dict:
        out: dict = {"cpu_s": {**{name: cpu_seconds(p.pid) for name, p in self.procs.items()},
                               "postgres": postgres_cpu_seconds(self.datadir)}}
        for service, url in self.metrics_urls.items():
            with urllib.request.urlopen(url, timeout=10) as resp:
                text = resp.read().decode()
            samples: dict[str, float] = {}
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    samples[sample.name] = samples.get(sample.name, 0.0) + sample.value
            out[service] = {name: samples.get(metric, 0.0) for name, metric in SERVICE_FIGURES[service].items()}
        return out

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        return {group: {k: round(v - before[group][k], 3) for k, v in values.items()}
                for group, values in after.items()}


def _wait_metrics(url: str, proc: subprocess.Popen, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {limit_s} s")


@contextmanager
def running(pg: Postgres, redis_url: str, aggregator_at: float, evaluator_at: float) -> Iterator[Background]:
    """The services and the results writer, the aggregator's run and the evaluator's tick
    set to start at the seconds of the minute of ``aggregator_at`` and ``evaluator_at``
    (Unix times); yields once every process is up and the writer has held its late rows back."""
    logs = tempfile.TemporaryFile(mode="w+")
    base = {**os.environ, "VIGIL_DATABASE_URL": pg.dsn, "VIGIL_REDIS_URL": redis_url, "PYTHONPATH": str(ROOT),
            "VIGIL_AGGREGATOR_CRON_SECOND": str(math.ceil(aggregator_at) % 60),
            "VIGIL_EVALUATOR_CRON_SECOND": str(math.ceil(evaluator_at) % 60)}
    procs: dict[str, subprocess.Popen] = {}
    urls: dict[str, str] = {}
    try:
        for service in SERVICES:
            port = free_port()
            urls[service] = f"http://127.0.0.1:{port}/metrics"
            procs[service] = subprocess.Popen([sys.executable, "-m", "vigil", service], cwd=ROOT,
                                              env={**base, f"VIGIL_{service.upper()}_METRICS_PORT": str(port)},
                                              stdout=logs, stderr=logs, start_new_session=True)
        procs["writer"] = subprocess.Popen([sys.executable, "-m", "benchmarks.api_background"],
                                           cwd=ROOT, env=base, stdout=subprocess.PIPE, stderr=logs,
                                           text=True, start_new_session=True)
        for service in SERVICES:
            _wait_metrics(urls[service], procs[service])
        # The writer's first line says its late rows are held back and it is writing.
        if procs["writer"].stdout.readline().strip() != READY:
            raise RuntimeError("the results writer did not start")
        yield Background(procs, urls, pg.datadir)
    except BaseException:
        logs.seek(0)
        sys.stderr.write(logs.read()[-4000:])
        raise
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        logs.close()


def writer_figures(bg: Background) -> dict:
    """What the writer stored, from the line it prints when stopped (call after ``running``)."""
    out = bg.procs["writer"].stdout.read().strip().splitlines()
    return json.loads(out[-1]) if out else {}


# --- the results writer process --------------------------------------------------------

_HOLD_BACK = """
DELETE FROM check_results c USING (
    SELECT monitor_id, region_id, time FROM check_results
    WHERE time < (SELECT rolled_until FROM rollup_state WHERE width = '1 hour')
      AND time >= (SELECT rolled_until FROM rollup_state WHERE width = '1 hour') - interval '1 day'
    ORDER BY random() LIMIT %s) late
WHERE c.monitor_id = late.monitor_id AND c.region_id = late.region_id AND c.time = late.time
RETURNING {columns}"""


async def _write() -> dict:
    from ingest.slots import is_due, phase_for
    from ingest.writer import ResultWriter
    from vigil.constants import ErrorKind
    from vigil.db import open_pool
    from vigil.results import COLUMNS, ResultRow

    pool = await open_pool(os.environ["VIGIL_DATABASE_URL"], max_size=2)
    async with pool.connection() as conn:
        await conn.set_autocommit(True)
        held = [ResultRow(*r) for r in await (await conn.execute(
            _HOLD_BACK.format(columns=", ".join(f"c.{c}" for c in COLUMNS)), (LATE_ROWS_HELD,))).fetchall()]
        monitors = await (await conn.execute(
            "SELECT m.id, m.interval_s, array_agg(r.id) FROM monitors m JOIN regions r ON r.name = ANY (m.regions) "
            "WHERE m.enabled GROUP BY m.id")).fetchall()
    random.shuffle(held)
    writer = ResultWriter(pool)
    writer.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(READY, flush=True)
    fresh = late = down = 0
    writes: set[asyncio.Task] = set()
    started = time.time()
    second = math.floor(started) + 1
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, second - time.time()))
                break
            except TimeoutError:
                pass
            at = datetime.fromtimestamp(second, UTC)
            rows = []
            for monitor_id, interval_s, regions in monitors:
                if is_due(second, interval_s, phase_for(monitor_id, interval_s)):
                    for region_id in regions:
                        up = random.random() >= DOWN_SHARE
                        latency = int(random.lognormvariate(math.log(120_000), 0.4))
                        rows.append(ResultRow(at, monitor_id, latency if up else 0, latency // 4, latency // 2,
                                              random.randint(0, 40), region_id,
                                              0 if up else int(ErrorKind.http_status), 200 if up else 503, 1, up))
                        down += not up
            fresh += len(rows)
            rows += held[late:late + LATE_ROWS_PER_SECOND]
            late = min(len(held), late + LATE_ROWS_PER_SECOND)
            # Not awaited here: the writer gathers the rows of several seconds into one flush,
            # as it gathers a worker's concurrent jobs, and the next second starts on time.
            task = asyncio.create_task(writer.write(rows))
            writes.add(task)
            task.add_done_callback(writes.discard)
            second += 1
        await asyncio.gather(*writes)
    finally:
        await writer.close()
        await pool.close()
    seconds = time.time() - started
    return {"seconds": round(seconds, 1), "fresh_rows": fresh, "down_rows": down, "late_rows": late,
            "rows_per_s": round((fresh + late) / seconds, 1) if seconds else None,
            "written_rows": writer.written_rows}


if __name__ == "__main__":
    import uvloop

    print(json.dumps(uvloop.run(_write())), flush=True)
