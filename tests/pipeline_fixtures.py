"""Helpers for the pipeline tests (scheduler, worker, dead letters, faults)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import psycopg


def add_monitors(db: psycopg.Connection, account_id: int, n: int, target: str, *, interval_s: int = 10,
                 timeout_ms: int = 2000, regions: tuple[str, ...] = ("local",), quorum: int = 1,
                 created_ago_s: int = 0, attempts: int = 1) -> list[int]:
    """n enabled HTTP monitors; returns their ids. created_ago_s backdates created/updated_at."""
    db.execute("INSERT INTO regions (name) SELECT unnest(%s::text[]) ON CONFLICT (name) DO NOTHING",
               (list(regions),))
    rows = db.execute(
        "INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions, "
        "region_quorum, expectations, created_at, updated_at) "
        "SELECT %s, 'm' || g, 'http', %s, %s, %s, %s, %s, %s, now() - make_interval(secs => %s), "
        "now() - make_interval(secs => %s) FROM generate_series(1, %s) g RETURNING id",
        (account_id, target, interval_s, timeout_ms, list(regions), quorum,
         json.dumps({"attempts": attempts}), created_ago_s, created_ago_s, n)).fetchall()
    return [r[0] for r in rows]


def wait_until(predicate: Callable[[], object], within_s: float, every_s: float = 0.2) -> object:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"condition not met within {within_s}s")


def region_id(db: psycopg.Connection, name: str) -> int:
    return db.execute("SELECT id FROM regions WHERE name = %s", (name,)).fetchone()[0]


class CountingTarget:
    """A threaded HTTP server on a free loopback port that answers 200 and counts requests
    per path; it runs outside the test's event loop, so blocking waits do not stall it."""

    def __init__(self, delay_s: float = 0.0) -> None:
        import threading
        from collections import Counter
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        counts: Counter[str] = Counter()
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                with lock:
                    counts[self.path] += 1
                if delay_s:
                    time.sleep(delay_s)
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that went away (a killed worker) is expected here

        self.counts = counts
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def spawn(settings, *command: str, **env: str):
    """A Vigil service as a real child process in its own process group."""
    import subprocess
    import sys

    from tests.services import service_env

    return subprocess.Popen([sys.executable, "-m", "vigil", *command], start_new_session=True,
                            env=service_env(settings, **env))


def stop(*procs, sig: int | None = None) -> None:
    import os
    import signal
    import subprocess

    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, sig or signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def due_slots(ids: list[int], interval_s: int, lo: int, hi: int) -> set[tuple[int, int]]:
    """Every (monitor, slot) with lo <= slot <= hi."""
    from ingest.slots import phase_for, slots_between

    return {(m, t) for m in ids for t in slots_between(lo, hi + 1, interval_s, phase_for(m, interval_s))}


def stored_slots(db: psycopg.Connection, lo: int, hi: int, missed: bool | None = None) -> list[tuple[int, int]]:
    """(monitor, slot) of every row with lo <= slot <= hi, duplicates kept (sorted)."""
    where = "" if missed is None else (" AND error_kind = 13" if missed else " AND error_kind <> 13")
    return sorted(db.execute(
        "SELECT monitor_id, extract(epoch FROM time)::bigint FROM check_results "
        "WHERE time BETWEEN to_timestamp(%s) AND to_timestamp(%s)" + where, (lo, hi)).fetchall())


def worker_health(port: int) -> tuple[int, dict] | None:
    """(status, body) of a worker's GET /health, or None while nothing answers."""
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return None
