"""Evaluator benchmark: R down rules over R monitors with seeded history; times ticks.

    python -m benchmarks.evaluator            # 100,000 rules
    python -m benchmarks.evaluator --quick    # 10,000 rules

Each monitor (one region, checked every minute) has a down rule of its own (fire on the
first failed slot, resolve after 2 good slots) with one channel. Every tick first writes
the minute's results for all monitors (untimed, as the workers would), then runs one
evaluator tick (`evaluate_minute`, every rule kind; only the down kind has rules here,
an empty kind costs one statement that finds none) and times it:
- steady ticks: everything up, nothing to change;
- the failing tick: 1 % of monitors fail, so 1 % of rules open an incident and write an
  outbox row in the same transaction;
- recovery ticks: those incidents resolve and write their outbox rows.

alert_latency_s: first failing slot -> signed webhook received at a local receiver. The
cron runs the tick for minute m at m:S (S = VIGIL_EVALUATOR_CRON_SECOND, default 10, or
--cron-second), and that tick reads the slots before m, so a failing slot at minute start
s is seen by the tick at s + 60 s, started S s later: that part is the schedule (ticks are
driven with explicit minutes, not by waiting for real minutes, so it is added, not
measured). Measured in wall-clock time: from the failing tick's start to the moment the
receiver (aiohttp on 127.0.0.1 port 0, verifying each signature) got the webhook, sent by
`vigil notifier` running as its own process from the outbox rows that tick committed
(woken by the tick's commit; its 2 s idle poll is the fallback). Median and max over the 1 % of monitors that fail. That is the path of window
rules, and of down rules when the immediate pass missed their result.

alert_latency_after_result_s: the down rules' own path. F more monitors (20, --quick 10;
not written by the ticks) each get one failing result, stored through the workers' writer
(ingest/writer.py, which announces down monitors as it commits) one every half second,
while the evaluator's immediate pass runs as its own processes (two, as two evaluator
replicas would; --evaluators) beside `vigil notifier`, and a full tick over every rule
runs alongside the first of them (the cron's tick takes a few seconds of every minute).
Measured from the moment write()
returned (the row committed) to the receipt of that monitor's webhook; p99
(alert_latency_after_result_s) and p50 over the F incidents, with the medians of where the
time went: to the evaluating transaction's start (wake-up and debounce), to the notifier's
send (evaluation, commit, the notifier's wake-up and claim) and to the receipt (the signed
POST).

Baseline, measured in the same run: a per-rule loop (one query per rule reading that
monitor's latest slots, what an evaluator looping over rules does at the very least),
timed over a sample of rules."""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

import psycopg

from benchmarks.alert_delivery import (
    Receiver,
    point_channel_at,
    start_immediate_pass,
    start_notifier,
    stop_service,
    wait_immediate_passes_ready,
)
from benchmarks.harness import emit, median, percentile, throwaway_postgres
from evaluator.tick import evaluate_minute
from ingest.writer import ResultWriter
from notify.crypto import generate_key
from vigil.constants import DOWN_RESULTS_CHANNEL, ErrorKind
from vigil.db import open_pool
from vigil.migrate import migrate
from vigil.results import ResultRow
from vigil.settings import Settings

DELIVERY_TIMEOUT_S = 60.0
HISTORY_SLOTS = 60    # an hour of history, so reads are index ranges in a real-sized table
FAILING_EVERY = 100   # 1 % of monitors fail in the failing tick
LOOP_SAMPLE = 2000
MINUTE = timedelta(minutes=1)
IMMEDIATE_SPACING_S = 0.5  # between the failing results of the immediate-pass phase


def seed(dsn: str, monitors: int, base: datetime) -> None:
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("INSERT INTO accounts (name) VALUES ('bench')")
        db.execute("INSERT INTO regions (name) VALUES ('local')")
        db.execute("INSERT INTO channels (account_id, kind, name, config)"
                   " VALUES (1, 'webhook', 'ops', '{\"url\": \"https://hooks.example.com/x\"}')")
        db.execute("INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms, regions)"
                   " SELECT 1, 'm' || i, 'http', 'https://m' || i || '.example.com/', 60, 5000, '{local}'"
                   " FROM generate_series(1, %s) i", (monitors,))
        db.execute("INSERT INTO alert_rules (account_id, name, kind, monitor_id, params, channel_ids,"
                   " recovery_slots) SELECT 1, 'down ' || i, 'down', i, '{\"failures\": 1}', '{1}', 2"
                   " FROM generate_series(1, %s) i", (monitors,))
        for k in range(HISTORY_SLOTS, 0, -1):
            write_slot(db, base - k * MINUTE, monitors, failing=False)
        db.execute("ANALYZE")


def write_slot(db: psycopg.Connection, slot: datetime, rules: int, failing: bool) -> None:
    # session_replication_role = replica: a bulk load of past slots skips row triggers
    # (e.g. a late-row marker), which the workers' live writes would not fire either.
    db.execute("SET session_replication_role = replica")
    db.execute("INSERT INTO check_results (time, monitor_id, latency_us, region_id, error_kind, up)"
               " SELECT %(t)s, i, 80000, 1, CASE WHEN f THEN 8 ELSE 0 END, NOT f"
               " FROM generate_series(1, %(n)s) i, LATERAL (SELECT %(failing)s AND i %% %(every)s = 0 AS f) x",
               {"t": slot, "n": rules, "failing": failing, "every": FAILING_EVERY})
    db.execute("SET session_replication_role = origin")


async def timed_tick(pool, at: datetime) -> float:
    started = time.perf_counter()
    outcomes = await evaluate_minute(pool, at)
    errors = [o.error for o in outcomes if o.error]
    if errors:
        raise RuntimeError(f"evaluator tick failed: {errors}")
    elapsed = time.perf_counter() - started
    print(f"  tick at {at:%H:%M}: {elapsed:.3f} s; statements: {outcomes[0].statement_s};"
          f" other kinds: {sum(o.seconds for o in outcomes[1:]):.3f} s", flush=True)
    return elapsed


def per_rule_loop(dsn: str, rules: int, at: datetime) -> float:
    """Rules per second of the baseline: one query per rule."""
    sample = random.Random(3).sample(range(1, rules + 1), min(LOOP_SAMPLE, rules))
    with psycopg.connect(dsn, autocommit=True) as db:
        started = time.perf_counter()
        for mid in sample:
            db.execute("SELECT up FROM check_results WHERE monitor_id = %s AND region_id = 1"
                       " AND time >= %s AND time < %s ORDER BY time DESC LIMIT 3",
                       (mid, at - 3 * MINUTE, at)).fetchall()
        return len(sample) / (time.perf_counter() - started)


async def immediate_alerts(dsn: str, receiver: Receiver, first_monitor: int, count: int,
                           evaluators: int, tick_pool, tick_at: datetime) -> dict:
    """Down results stored one by one through the writer; the immediate pass (its own
    processes) fires, the notifier delivers. Seconds from each commit to its webhook. A full
    tick over every rule runs alongside the first results, as the cron's would for a few
    seconds of every minute: the figure includes the competition."""
    passes = [start_immediate_pass(dsn) for _ in range(evaluators)]
    pool = await open_pool(dsn, max_size=2)
    writer = ResultWriter(pool, flush_seconds=0.05)
    writer.start()
    stored: dict[int, float] = {}
    monitors = list(range(first_monitor, first_monitor + count))
    try:
        await wait_immediate_passes_ready(dsn, DOWN_RESULTS_CHANNEL, evaluators)
        before = receiver.count("firing")
        tick = asyncio.create_task(timed_tick(tick_pool, tick_at))
        for mid in monitors:
            slot = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
            await writer.write([ResultRow(time=slot, monitor_id=mid, latency_us=2_000_000, connect_us=500,
                                          ttfb_us=1_900_000, lateness_ms=5, region_id=1,
                                          error_kind=int(ErrorKind.http_status), status_code=503,
                                          attempts=1, up=False)])
            stored[mid] = time.time()
            await asyncio.sleep(IMMEDIATE_SPACING_S)
        print(f"tick beside the immediate pass: {await tick:.3f} s", flush=True)
        if not await receiver.wait_for("firing", before + count, DELIVERY_TIMEOUT_S):
            raise RuntimeError(f"only {receiver.count('firing') - before} of {count} immediate webhooks received")
        await asyncio.sleep(1.0)  # room for a duplicate from the second pass, if one could happen
    finally:
        await writer.close()
        for proc in passes:
            stop_service(proc)
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT n.id, i.monitor_id, extract(epoch FROM n.created_at),"
            " (SELECT extract(epoch FROM min(a.attempted_at)) FROM notification_attempts a"
            "  WHERE a.notification_id = n.id)"
            " FROM notifications n JOIN incidents i ON i.id = n.incident_id"
            " WHERE i.monitor_id = ANY(%s) AND n.event = 'firing'", (monitors,))
        rows = await cur.fetchall()
        incidents = (await (await conn.execute("SELECT count(*) FROM incidents WHERE monitor_id = ANY(%s)",
                                               (monitors,))).fetchone())[0]
    await pool.close()
    arrived = {delivery: t for (event, delivery), t in receiver.received.items() if event == "firing"}
    total, to_eval, to_send, to_receipt = [], [], [], []
    for nid, mid, created, attempted in rows:
        total.append(arrived[nid] - stored[mid])
        to_eval.append(float(created) - stored[mid])
        to_send.append(float(attempted) - float(created))
        to_receipt.append(arrived[nid] - float(attempted))
    print(f"immediate pass: {count} incidents, commit -> webhook {min(total):.3f}-{max(total):.3f} s", flush=True)
    return {
        "alert_latency_after_result_s": round(percentile(total, 0.99), 3),  # p99, the goal's figure
        "alert_latency_after_result_p50_s": round(percentile(total, 0.5), 3),
        "after_result_to_evaluation_p50_s": round(median(to_eval), 3),
        "after_result_evaluation_to_send_p50_s": round(median(to_send), 3),
        "after_result_send_to_receipt_p50_s": round(median(to_receipt), 3),
        "immediate_incidents": incidents,
        "immediate_webhooks": len(rows),
        "immediate_expected": count,
        "immediate_evaluators": evaluators,
    }


async def run(rules: int, steady_ticks: int, cron_second: int, immediate: int, evaluators: int) -> dict:
    base = datetime.now(UTC).replace(second=0, microsecond=0)
    expected = rules // FAILING_EVERY
    with throwaway_postgres() as pg:
        settings = Settings(database_url=pg.dsn)
        migrate(settings)
        t = time.perf_counter()
        seed(pg.dsn, rules + immediate, base)
        print(f"seeded {rules + immediate:,} monitors and rules, {HISTORY_SLOTS} slots each,"
              f" in {time.perf_counter() - t:.1f} s", flush=True)
        receiver = Receiver()
        await receiver.start()
        secret_key = generate_key()
        point_channel_at(pg.dsn, 1, receiver.url, secret_key)
        notifier = start_notifier(pg.dsn, secret_key)
        pool = await open_pool(pg.dsn, max_size=2)
        db = psycopg.connect(pg.dsn, autocommit=True)
        try:
            at = base
            steady = []
            for k in range(steady_ticks):
                if k:
                    write_slot(db, at - MINUTE, rules, failing=False)
                steady.append(await timed_tick(pool, at))
                print(f"steady tick {k}: {steady[-1]:.3f} s", flush=True)
                at += MINUTE
            failing_slot = at - MINUTE
            write_slot(db, failing_slot, rules, failing=True)
            tick_started = time.time()
            failing_tick = await timed_tick(pool, at)
            fired = db.execute("SELECT count(*) FROM notifications WHERE event = 'firing'").fetchone()[0]
            print(f"failing tick: {failing_tick:.3f} s, {fired:,} outbox rows", flush=True)
            if not await receiver.wait_for("firing", expected, DELIVERY_TIMEOUT_S):
                raise RuntimeError(f"only {receiver.count('firing')} of {expected} firing webhooks received")
            to_receipt = sorted(t - tick_started for (e, _), t in receiver.received.items() if e == "firing")
            print(f"webhooks received {to_receipt[0]:.3f}-{to_receipt[-1]:.3f} s after the failing tick started",
                  flush=True)
            recovery = []
            for _ in range(2):
                at += MINUTE
                write_slot(db, at - MINUTE, rules, failing=False)
                recovery.append(await timed_tick(pool, at))
            resolved = db.execute("SELECT count(*) FROM notifications WHERE event = 'resolved'").fetchone()[0]
            if not await receiver.wait_for("resolved", expected, DELIVERY_TIMEOUT_S):
                raise RuntimeError(f"only {receiver.count('resolved')} of {expected} resolved webhooks received")
            print(f"recovery ticks: {', '.join(f'{s:.3f}' for s in recovery)} s, {resolved:,} resolved", flush=True)
            webhooks = receiver.count("firing") + receiver.count("resolved")
            fast = await immediate_alerts(pg.dsn, receiver, rules + 1, immediate, evaluators, pool, at + MINUTE)
            loop_rps = per_rule_loop(pg.dsn, rules, at)
        finally:
            db.close()
            await pool.close()
            stop_service(notifier)
            await receiver.stop()
    tick_median = median(steady)
    schedule_wait = 60 + cron_second
    return {
        "rules": rules,
        "tick_s_median": round(tick_median, 3),
        "rules_per_s": round(rules / tick_median),
        "failing_tick_s": round(failing_tick, 3),
        "recovery_tick_s_max": round(max(recovery), 3),
        "incidents_fired": fired,
        "incidents_resolved": resolved,
        "incidents_expected": expected,
        "evaluator_cron_second": cron_second,
        "alert_latency_s": round(schedule_wait + median(to_receipt), 1),
        "alert_latency_max_s": round(schedule_wait + to_receipt[-1], 1),
        "alert_latency_schedule_part_s": schedule_wait,
        "alert_latency_measured_part_s": round(median(to_receipt), 3),
        "webhooks_received": webhooks,
        "webhooks_bad_signature": receiver.bad_signatures,
        "baseline_loop_rules_per_s": round(loop_rps),
        "speedup_vs_loop": round(rules / tick_median / loop_rps, 1),
        **fast,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.evaluator", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rules instead of 100,000")
    parser.add_argument("--rules", type=int, help="override the number of rules")
    parser.add_argument("--evaluators", type=int, default=2,
                        help="immediate-pass processes running side by side (evaluator replicas)")
    parser.add_argument("--cron-second", type=int, default=Settings.model_fields["evaluator_cron_second"].default,
                        help="second of the minute the evaluator cron runs at (VIGIL_EVALUATOR_CRON_SECOND)")
    args = parser.parse_args()
    if not 0 <= args.cron_second <= 59:
        parser.error(f"--cron-second must be 0..59, got {args.cron_second}")
    rules = args.rules or (10_000 if args.quick else 100_000)
    if rules < FAILING_EVERY:
        parser.error(f"--rules must be at least {FAILING_EVERY}, got {rules}")
    if not 1 <= args.evaluators <= 8:
        parser.error(f"--evaluators must be 1..8, got {args.evaluators}")
    figures = asyncio.run(run(rules, steady_ticks=3 if args.quick else 5, cron_second=args.cron_second,
                              immediate=10 if args.quick else 20, evaluators=args.evaluators))
    for key, value in figures.items():
        print(f"{key:>30}: {value}")
    ok = figures["incidents_fired"] == figures["incidents_expected"] == figures["incidents_resolved"]
    ok = ok and figures["webhooks_received"] == 2 * figures["incidents_expected"]
    goal = "met" if figures["rules_per_s"] >= 33_000 else "NOT met"
    if rules < 100_000:
        goal += " at this size (the goal is set for 100,000 rules: run without --quick)"
    print(f"{'goal >= 33,000 rules/s':>30}: {goal}; incidents and webhooks {'as expected' if ok else 'NOT as expected'}")
    latency_goal = "met" if figures["alert_latency_max_s"] <= 60 + 65 else "NOT met"
    print(f"{'goal alert latency <= 125 s':>30}: {latency_goal} (interval 60 s + 65 s)")
    fast_ok = figures["immediate_incidents"] == figures["immediate_webhooks"] == figures["immediate_expected"]
    fast_goal = "met" if figures["alert_latency_after_result_s"] <= 5 else "NOT met"
    print(f"{'goal after result p99 <= 5 s':>30}: {fast_goal}; immediate incidents and webhooks"
          f" {'exactly once each' if fast_ok else 'NOT exactly once'}")
    emit(figures)


if __name__ == "__main__":
    main()
