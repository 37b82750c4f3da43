"""Private PostgreSQL+TimescaleDB and Redis servers for `vigil up`, the tests and the
benchmarks: started on a chosen port with data in a chosen folder, stopped cleanly.

PostgreSQL refuses to run as root, so when we are root the cluster runs as Debian's
``postgres`` user, in folders that user owns."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PG_USER = "postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def wait_for_ok(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> bool:
    """Poll url until it answers 200 (True), the time is up or proc has exited (False)."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.2)
    return False


def stop_process(proc: subprocess.Popen | None, patience: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``patience`` seconds."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(patience)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pg_bindir() -> Path:
    """The newest installed PostgreSQL that has TimescaleDB."""
    root = Path("/usr/lib/postgresql")
    majors = sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: int(p.name),
                    reverse=True) if root.exists() else []
    for major in majors:
        if list((major / "lib").glob("timescaledb-*.so")):
            return major / "bin"
    raise RuntimeError("no PostgreSQL with TimescaleDB found under /usr/lib/postgresql; "
                       "run scripts/setup.sh first")


def _as_pg_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def _chown_to_pg_user(path: Path) -> None:
    if os.geteuid() == 0:
        pw = pwd.getpwnam(PG_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _pg_user_can_reach(path: Path) -> bool:
    if os.geteuid() != 0:
        return True
    return subprocess.run(_as_pg_user(["test", "-x", str(path)]), capture_output=True).returncode == 0


@dataclass
class Postgres:
    datadir: Path
    port: int
    user: str = "vigil"
    dbname: str = "vigil"
    durable: bool = True  # False for tests: fsync off, which is several times faster
    extra_conf: dict[str, str] = field(default_factory=dict)

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.dbname}"

    def _pg(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = _as_pg_user([str(pg_bindir() / tool), *args])
        return subprocess.run(cmd, capture_output=True, text=True, check=check)

    def init(self) -> None:
        if (self.datadir / "PG_VERSION").exists():
            return
        self.datadir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _chown_to_pg_user(self.datadir)
        if not _pg_user_can_reach(self.datadir):
            raise RuntimeError(f"user {PG_USER} cannot reach {self.datadir}; move the project "
                               "somewhere it can (e.g. not under /root) or set VIGIL_DATA_DIR")
        # trust on loopback only: this is a private cluster for one developer or one test run.
        self._pg("initdb", "-D", str(self.datadir), "-U", self.user, "--auth=trust",
                 "--encoding=UTF8", "--no-instructions")
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.datadir}'",
            "shared_preload_libraries": "'timescaledb'",
            "timescaledb.telemetry_level": "off",
            "max_connections": "200",
            "shared_buffers": "256MB",
            "max_wal_size": "2GB",
            "log_min_messages": "warning",
        }
        if not self.durable:
            conf.update({"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"})
        conf.update(self.extra_conf)
        lines = "".join(f"{k} = {v}\n" for k, v in conf.items())
        with open(self.datadir / "postgresql.auto.conf", "a") as fh:
            fh.write(lines)

    def start(self) -> None:
        self.init()
        if self.running():
            return
        res = self._pg("pg_ctl", "-D", str(self.datadir), "-l", str(self.datadir / "server.log"),
                       "-o", f"-p {self.port}", "-w", "-t", "60", "start", check=False)
        if res.returncode != 0:
            log_tail = (self.datadir / "server.log").read_text()[-2000:] \
                if (self.datadir / "server.log").exists() else ""
            raise RuntimeError(f"PostgreSQL failed to start on port {self.port}: {res.stderr}\n{log_tail}")
        self._ensure_database()

    def _ensure_database(self) -> None:
        psql = [str(pg_bindir() / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                "-d", "postgres", "-Atqc"]
        exists = subprocess.run([*psql, f"SELECT 1 FROM pg_database WHERE datname = '{self.dbname}'"],
                                capture_output=True, text=True, check=True).stdout.strip()
        if not exists:
            subprocess.run([*psql, f'CREATE DATABASE "{self.dbname}"'], check=True, capture_output=True)

    def running(self) -> bool:
        return self._pg("pg_ctl", "-D", str(self.datadir), "status", check=False).returncode == 0

    def stop(self, mode: str = "fast") -> None:
        if self.datadir.exists() and self.running():
            self._pg("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.datadir, ignore_errors=True)


@contextlib.contextmanager
def standby_of(primary: Postgres) -> Iterator[Postgres]:
    """A throwaway hot standby of a running primary, on a free port, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="vigil-standby-"))
    os.chmod(root, 0o755)  # the postgres user must reach the data folder inside
    try:
        server = start_standby(primary, root / "data", free_port())
        try:
            yield server
        finally:
            server.destroy()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def start_standby(primary: Postgres, datadir: Path, port: int) -> Postgres:
    """A hot standby of a running primary: a base backup taken over the replication
    protocol (pg_basebackup -R writes the standby's connection to the primary), started on
    its own port and streaming from then on."""
    datadir.mkdir(parents=True, mode=0o700)
    _chown_to_pg_user(datadir)
    cmd = _as_pg_user([str(pg_bindir() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                       "-U", primary.user, "-D", str(datadir), "-R", "-X", "stream", "-c", "fast"])
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"pg_basebackup from port {primary.port} failed: {res.stderr.strip()}")
    # The copied configuration names the primary's socket folder: give the standby its own.
    with open(datadir / "postgresql.auto.conf", "a") as fh:
        fh.write(f"unix_socket_directories = '{datadir}'\nhot_standby_feedback = on\n")
    standby = Postgres(datadir, port, primary.user, primary.dbname, primary.durable)
    standby.start()
    return standby


@dataclass
class Redis:
    port: int
    datadir: Path | None = None  # None: no persistence (tests)
    proc: subprocess.Popen | None = None
    password: str | None = None  # clients must AUTH with it when set

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if not exe:
            raise RuntimeError("redis-server not found; run scripts/setup.sh first")
        # The password goes in on stdin (a config read from "-"), not on the command line,
        # which other local users can read.
        args = [exe, *(["-"] if self.password else []), "--port", str(self.port), "--bind", "127.0.0.1", "--appendonly", "no",
                "--protected-mode", "yes", "--loglevel", "warning"]
        if self.datadir is None:
            args += ["--save", ""]
        else:
            self.datadir.mkdir(parents=True, exist_ok=True)
            args += ["--dir", str(self.datadir), "--save", "60 1"]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE if self.password else None,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.password:
            self.proc.stdin.write(f"requirepass {self.password}\n".encode())
            self.proc.stdin.close()
        wait_for_port(self.port)

    def stop(self) -> None:
        stop_process(self.proc)
