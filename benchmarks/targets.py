"""Local servers the check benchmark runs against: nginx as the target, Prometheus
blackbox_exporter as the baseline prober, and per-process CPU/RSS accounting from /proc."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vigil.devcluster import free_port, wait_for_port

NGINX = "/usr/sbin/nginx"
BLACKBOX_EXPORTER = "/usr/bin/prometheus-blackbox-exporter"
_TICK = os.sysconf("SC_CLK_TCK")

NGINX_CONF = """worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""

BLACKBOX_CONF = """modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_of(ppid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == ppid:
                out.append(int(entry.name))
    return out


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass  # a process that ended (a short-lived backend) no longer counts
    return total


@contextmanager
def nginx() -> Iterator[str]:
    """nginx serving 200 "ok" on a free loopback port, with its own temporary config."""
    if not os.path.exists(NGINX):
        raise SystemExit(f"{NGINX} not found: run scripts/setup.sh")
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-nginx-"))
    port = free_port()
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=port))
    proc = subprocess.Popen([NGINX, "-c", str(tmp / "nginx.conf"), "-p", str(tmp), "-e", str(tmp / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def blackbox_exporter() -> Iterator[tuple[str, int]]:
    """(base URL, pid) of a blackbox_exporter with an http_2xx module on a free port."""
    if not os.path.exists(BLACKBOX_EXPORTER):
        raise SystemExit(f"{BLACKBOX_EXPORTER} not found: run scripts/setup.sh")
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-bbe-"))
    (tmp / "blackbox.yml").write_text(BLACKBOX_CONF)
    port = free_port()
    proc = subprocess.Popen([BLACKBOX_EXPORTER, f"--config.file={tmp / 'blackbox.yml'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
