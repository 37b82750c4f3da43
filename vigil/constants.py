"""Names and fixed values shared by more than one part of Vigil, each in one place."""

from __future__ import annotations

from enum import IntEnum

API_PREFIX = "/api/v1"

# arq queues: one per region, so a worker serves exactly one region.
CHECK_QUEUE_PREFIX = "vigil:checks:"
# The periodic jobs' queues: each cron worker polls its own.
AGGREGATOR_QUEUE = "vigil:aggregator"
EVALUATOR_QUEUE = "vigil:evaluator"
# PostgreSQL NOTIFY channels (sent inside the writing transaction, so a listener hears of
# rows only once they are committed): monitors that just stored a down result, for the
# evaluator's immediate down-rule pass; new outbox rows, to wake the notifier.
DOWN_RESULTS_CHANNEL = "vigil_down_results"
OUTBOX_CHANNEL = "vigil_outbox"
# Scheduler watermark: the last slot second fully enqueued, per region. Kept in Redis
# beside the queue it describes; if Redis loses it, the scheduler restarts from "now"
# and the slots in between are reported missed, never silently absent.
SCHEDULER_WATERMARK_KEY = "vigil:scheduler:watermark:"
# How long past the scheduler's catch-up a slot's job stays known to Redis. A scheduler
# tries to enqueue slot t no later than t + catch-up + the length of its tick (the tick reads
# the watermark once, then walks its slots); a minute covers a tick's length many times.
SLOT_JOB_MARGIN_SECONDS = 60


def slot_job_lifetime(max_catchup_seconds: int) -> int:
    """Seconds past its slot second that a slot's job stays in Redis: unstarted, its job
    expires then; finished (at its slot second at the earliest: a retry or a long batch only
    finishes it later, and keeps its job meanwhile), its result is kept this long. arq
    refuses a job id while either exists, which is what makes two schedulers, or a restarted
    one, enqueue a slot once: both outlive the last try to enqueue slot t, at t + catch-up
    + one tick."""
    return max_catchup_seconds + SLOT_JOB_MARGIN_SECONDS

# Dead-lettered check batches: a Redis list next to the queues they came
# from, because the usual reason a job fails every try is that the database is down.
DEAD_LETTER_KEY = "vigil:dead-letters"

API_KEY_PREFIX = "vgl_"
# The operator token (see vigil/operator.py) has its own prefix, so a tenant route can
# tell a caller that brought it to the wrong door.
OPERATOR_TOKEN_PREFIX = "vop_"
# Sign-in failures for emails no user has, counted like a user's own failures so a lockout
# never tells which emails exist: a counter, then a lock key living as long as the lockout.
LOGIN_FAILURES_KEY = "vigil:login:failures:"
LOGIN_LOCK_KEY = "vigil:login:locked:"
LOGIN_LOCKOUTS_KEY = "vigil:login:lockouts:"

# Hardening: the largest ids PostgreSQL's integer / bigint columns hold; API query
# parameters compared with such columns are bounded by these, so a huge value is a 400.
PG_INT_MAX = 2**31 - 1
PG_BIGINT_MAX = 2**63 - 1

MIN_INTERVAL_SECONDS = 10
MAX_INTERVAL_SECONDS = 86_400
# Regions are shared by every account (a region is where workers run); tenants may name new
# ones in a monitor's regions, up to this many in all. Region ids are smallints in every
# result row, so the table stays far below 32k.
MAX_REGIONS = 1000


def check_queue(region: str) -> str:
    return CHECK_QUEUE_PREFIX + region


class ErrorKind(IntEnum):
    """Why a check failed, stored as a smallint in check_results.error_kind (0 = up)."""

    none = 0
    dns = 1
    refused = 2
    connect_timeout = 3
    read_timeout = 4
    tls = 5
    reset = 6
    protocol = 7
    http_status = 8
    assertion = 9
    too_many_redirects = 10
    body_too_large = 11
    blocked_target = 12
    missed = 13
    unreachable = 14
    internal = 15
    # Appended by the check engine; values are stored, so never renumber.
    cert_expiring = 16  # TLS certificate valid for fewer days than the monitor's threshold
    heartbeat_missed = 17  # no ping within interval + grace
    packet_loss = 18  # ICMP: more echoes lost than the monitor allows (every one, when the host is down)
    not_permitted = 19  # the worker may not open the sockets the check needs (ICMP without raw or ping sockets)

# Alerting (evaluator, api/rules): the rule kinds, in the order the evaluator runs them.
RULE_KINDS = ("down", "heartbeat", "tls_expiry", "latency", "uptime", "slo_burn_rate")
