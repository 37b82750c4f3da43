"""`vigil aggregator`: the rollup job every minute, or once with --once."""

from __future__ import annotations

import argparse
import asyncio

from aggregator.jobs import aggregate
from vigil.constants import AGGREGATOR_QUEUE
from vigil.cronworker import make_cron_worker, run_job_once, run_worker
from vigil.settings import get_settings


def main(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.once:
        rolled = asyncio.run(run_job_once(settings, aggregate))
        print(f"rolled {rolled} hour bucket(s)")
        return 0
    run_worker(lambda: make_cron_worker(settings, AGGREGATOR_QUEUE,
                                        [(aggregate, {"second": settings.aggregator_cron_second})],
                                        service="aggregator"))
    return 0
