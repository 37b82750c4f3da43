"""Load on one public status page (StatusPageUser), or on the trivial baseline endpoint
(BaselineUser, from benchmarks/locustfile.py), driven by benchmarks.status_page:

    VIGIL_BENCH_PAGE=/status/bench locust -f benchmarks/status_locust.py --headless -u 32 -r 32 \
        -t 20s --host http://127.0.0.1:8080 StatusPageUser
"""

from __future__ import annotations

import os

from locust import FastHttpUser, task

from benchmarks.locustfile import WAIT, BaselineUser  # noqa: F401  (chosen by name on the command line)

PAGE = os.environ.get("VIGIL_BENCH_PAGE", "/status/bench")


class StatusPageUser(FastHttpUser):
    """A visitor's browser asking for the page's HTML (compressed, as browsers ask)."""

    wait_time = WAIT

    @task
    def page(self) -> None:
        self.client.get(PAGE, name="status page", headers={"Accept-Encoding": "gzip"})
