"""`vigil up`'s services as supervised child processes: one that dies is started again after
an exponential backoff, while the others keep running; each death is printed and counted,
and the counts are kept in a small JSON file beside the data. Only a crash loop (more than
``limit`` restarts of one service within ``window_s``) gives up, so that a service that can
never start is not restarted for ever behind a healthy-looking API.

Processes start in sessions of their own: a service is stopped (and a dead one's leftover
children cleaned up) by signalling its whole process group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# How long a stopped service gets to finish its work after SIGTERM before SIGKILL.
STOP_GRACE_SECONDS = 15


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """First restart after ``base_s``, each further one within ``window_s`` twice as late
    (at most ``max_s``); more than ``limit`` restarts within ``window_s`` is a crash loop."""

    base_s: float = 1.0
    max_s: float = 30.0
    limit: int = 5
    window_s: float = 60.0

    def delay_s(self, recent_deaths: int) -> float:
        """Wait before the restart that follows the ``recent_deaths``-th death in the window."""
        return min(self.max_s, self.base_s * 2 ** max(0, recent_deaths - 1))


def exit_reason(code: int) -> str:
    return f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"


@dataclass(slots=True)
class Service:
    name: str
    cmd: Sequence[str]
    env: Mapping[str, str]
    proc: subprocess.Popen | None = None
    restarts: int = 0
    last_exit: str = ""
    # monotonic times of the deaths inside the policy's window
    deaths: deque[float] = field(default_factory=deque)
    restart_at: float | None = None


class Supervisor:
    def __init__(self, services: Sequence[tuple[str, Sequence[str], Mapping[str, str]]],
                 policy: RestartPolicy = RestartPolicy(), state_file: Path | None = None,
                 say: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.services = [Service(name, cmd, env) for name, cmd, env in services]
        self.policy = policy
        self.state_file = state_file
        self.say = say or (lambda text: print(f"vigil up: {text}", file=sys.stderr, flush=True))
        self.clock = clock

    def start(self) -> None:
        for service in self.services:
            self._spawn(service)
        self._write_state()

    def _spawn(self, service: Service) -> None:
        service.proc = subprocess.Popen(service.cmd, env=dict(service.env), start_new_session=True)
        service.restart_at = None

    def tick(self) -> str | None:
        """Notice deaths and make due restarts; the reason to give up when one is a crash loop."""
        now = self.clock()
        changed = False
        for s in self.services:
            if s.restart_at is None and s.proc is not None and (code := s.proc.poll()) is not None:
                changed = True
                _kill_group(s.proc.pid, signal.SIGKILL)  # what the dead one started goes with it
                s.last_exit = exit_reason(code)
                s.deaths.append(now)
                while s.deaths and s.deaths[0] <= now - self.policy.window_s:
                    s.deaths.popleft()
                if len(s.deaths) > self.policy.limit:
                    self._write_state()
                    return (f"{s.name} died {len(s.deaths)} times within {self.policy.window_s:g} s (last: it "
                            f"{s.last_exit}): a crash loop, so everything stops; its output above says why")
                delay = self.policy.delay_s(len(s.deaths))
                s.restart_at = now + delay
                self.say(f"{s.name} (pid {s.proc.pid}) {s.last_exit}; restarting it in {delay:g} s")
            elif s.restart_at is not None and now >= s.restart_at:
                changed = True
                self._spawn(s)
                s.restarts += 1
                self.say(f"{s.name} restarted (pid {s.proc.pid}; {s.restarts} restart"
                         f"{'' if s.restarts == 1 else 's'} since vigil up started)")
        if changed:
            self._write_state()
        return None

    def state(self) -> dict[str, dict]:
        return {s.name: {"pid": s.proc.pid if s.proc and s.restart_at is None else None,
                         "running": bool(s.proc and s.restart_at is None and s.proc.poll() is None),
                         "restarts": s.restarts, "last_exit": s.last_exit or None} for s in self.services}

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state(), indent=1) + "\n")
        tmp.replace(self.state_file)  # readers never see half a file

    def stop(self) -> None:
        """SIGTERM to every running service, SIGKILL to those still running after the grace."""
        running = [s.proc for s in self.services if s.proc is not None and s.proc.poll() is None]
        for proc in running:
            _kill_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
        if self.state_file is not None:
            self.state_file.unlink(missing_ok=True)


def _kill_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass  # the group is gone already
