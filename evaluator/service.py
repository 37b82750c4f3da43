"""`vigil evaluator`: evaluate alert rules every minute, or once with --once [--at TIME]."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from evaluator.jobs import evaluate
from vigil.constants import EVALUATOR_QUEUE
from vigil.cronworker import make_cron_worker, run_job_once, run_worker
from vigil.settings import get_settings


def main(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.once:
        extra = {}
        if args.at:
            try:
                extra["at"] = datetime.fromisoformat(args.at)
            except ValueError:
                print(f"vigil evaluator: --at must be an ISO time, got {args.at!r}", file=sys.stderr)
                return 2
        evaluated = asyncio.run(run_job_once(settings, evaluate, **extra))
        print(f"evaluated; {evaluated} (rule, monitor) pair(s) bad or with an open incident")
        return 0
    run_worker(lambda: make_cron_worker(settings, EVALUATOR_QUEUE, [(evaluate, {"second": settings.evaluator_cron_second})]))
    return 0
