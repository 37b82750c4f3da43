"""Running Prometheus beside Vigil's services (`vigil up --with-prometheus`, the tests): a
scrape configuration for a set of services, and Debian's ``prometheus`` server on a loopback
port with its data in a chosen folder.

The configuration is written as JSON, which Prometheus reads as the YAML it is."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vigil.devcluster import stop_process, wait_for_ok

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "prometheus" / "rules.yml"
# The services that serve metrics on a port of their own, and the ports `vigil up` and
# compose.yaml give them (the API serves /metrics on its own port).
METRICS_PORTS = {"scheduler": 9101, "worker": 9102, "aggregator": 9103, "evaluator": 9104, "notifier": 9105}
PROMETHEUS_PORT = 9090


def scrape_config(targets: Mapping[str, str], api: str | None = None, *, interval_s: float = 15,
                  rule_files: tuple[Path | str, ...] = (), api_token_file: str | None = None) -> str:
    """A Prometheus configuration scraping each ``service -> host:port`` (job = service name),
    and the API's /metrics at ``api`` (host:port), with the operator token from
    ``api_token_file`` when it does not scrape from loopback."""
    jobs = [{"job_name": name, "static_configs": [{"targets": [address]}]} for name, address in targets.items()]
    if api is not None:
        job: dict = {"job_name": "api", "metrics_path": "/metrics", "static_configs": [{"targets": [api]}]}
        if api_token_file:
            job["authorization"] = {"type": "Bearer", "credentials_file": api_token_file}
        jobs.insert(0, job)
    interval = f"{interval_s:g}s" if interval_s >= 1 else f"{int(interval_s * 1000)}ms"
    config = {"global": {"scrape_interval": interval, "evaluation_interval": interval},
              "rule_files": [str(p) for p in rule_files], "scrape_configs": jobs}
    return json.dumps(config, indent=2) + "\n"


@dataclass
class Prometheus:
    """Debian's Prometheus on 127.0.0.1:port, storing in datadir."""

    port: int
    datadir: Path
    config: str
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        exe = shutil.which("prometheus")
        if not exe:
            raise RuntimeError("prometheus not found; run scripts/setup.sh first (Debian package prometheus)")
        self.datadir.mkdir(parents=True, exist_ok=True)
        config = self.datadir / "prometheus.yml"
        config.write_text(self.config)
        log = open(self.datadir / "prometheus.log", "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [exe, f"--config.file={config}", f"--storage.tsdb.path={self.datadir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=log, stderr=log, start_new_session=True)
        log.close()
        if not wait_for_ok(f"{self.url}/-/ready", timeout, self.proc):
            raise RuntimeError(f"Prometheus did not become ready on port {self.port}; "
                           f"see {self.datadir / 'prometheus.log'}")

    def api(self, path: str, **params: str) -> object:
        """The ``data`` of one call of Prometheus' HTTP API (e.g. api("query", query="up"))."""
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.loads(r.read())
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus {path} failed: {body}")
        return body["data"]

    def stop(self) -> None:
        stop_process(self.proc, 15.0)
