"""Every knob Vigil reads, from environment variables prefixed ``VIGIL_`` (or a .env file).

compose.yaml, `vigil up` and the tests all configure services through these same names.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigil.netguard import Policy, parse_allowlist


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIL_", env_file=".env", extra="ignore")

    database_url: str = "postgresql://vigil@127.0.0.1:5433/vigil"
    # A streaming replica of that database for the API's read-only routes (stats, status);
    # they read the primary whenever the replica is down or more than read_max_lag_seconds
    # behind it. Empty = every read on the primary. See docs/replicas.md.
    database_read_url: str = Field(default="", repr=False)
    read_max_lag_seconds: float = Field(default=5.0, gt=0, le=3600)
    redis_url: str = "redis://127.0.0.1:6380/0"
    # When set, `vigil migrate` also creates (or updates) vigil_app, the non-superuser login
    # role the services connect as, with this password (compose.yaml sets it).
    app_db_password: str = Field(default="", repr=False)

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8080

    # Sign-in (users, see docs/api.md "Users and sign-in"). jwt_secret signs access tokens; when
    # unset, a development setup keeps a generated one in the data folder, and production
    # refuses sign-in (API keys keep working).
    production: bool = False
    jwt_secret: str = Field(default="", repr=False)
    access_token_minutes: int = Field(default=15, ge=1, le=1440)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    # This many wrong passwords in a row lock an email: for lockout_seconds the first time,
    # twice as long each time after, up to lockout_max_seconds, until a sign-in succeeds.
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)
    login_lockout_max_seconds: int = Field(default=86400, ge=1)
    # argon2id cost: argon2-cffi's defaults (RFC 9106 low-memory profile); tests lower them.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    # Operator routes (/api/v1/operator): sha256 hex of the operator token (`vigil
    # operator-token` makes one); unset = operator routes refuse everyone.
    operator_token_hash: str = Field(default="", pattern=r"^([0-9a-fA-F]{64})?$")

    # Worker: one process serves one region; concurrency bounds in-flight checks.
    region: str = "local"
    worker_concurrency: int = Field(default=256, ge=1)
    worker_max_jobs: int = Field(default=16, ge=1)
    writer_flush_rows: int = Field(default=5000, ge=1)
    writer_flush_seconds: float = Field(default=0.5, gt=0)
    # While the database is down, results wait in memory up to this many rows; beyond it
    # new results are dropped, logged and counted (vigil_writer_dropped_rows).
    writer_buffer_rows: int = Field(default=200_000, ge=1)

    # Scheduler: monitors per arq job (one job carries many checks, see docs/pipeline.md).
    batch_size: int = Field(default=200, ge=1)
    scheduler_tick_seconds: float = Field(default=0.25, gt=0)
    scheduler_refresh_seconds: float = Field(default=5.0, gt=0)
    # A restarted scheduler catches up on at most this much past time; older slots are missed.
    scheduler_max_catchup_seconds: int = Field(default=300, ge=0)

    # Pipeline: job-level retries, dead letters, missed slots, worker health.
    # A batch whose job fails (database down, buffer full, timeout, worker killed) is
    # retried by the queue this many times with exponential backoff, then dead-lettered.
    worker_job_tries: int = Field(default=4, ge=1)
    worker_retry_backoff_seconds: float = Field(default=2.0, gt=0)
    # A batch job taking longer than this is abandoned and retried; a killed worker's job
    # is picked up again this long (plus 11 s) after it started.
    worker_job_timeout_seconds: int = Field(default=300, ge=1)
    # SIGTERM: stop taking jobs, let running ones finish this long, then put them back.
    worker_shutdown_wait_seconds: float = Field(default=20.0, ge=0)
    # Liveness/health HTTP endpoint of a worker (GET /health); 0 = off.
    worker_health_port: int = Field(default=0, ge=0, le=65535)
    worker_health_host: str = "127.0.0.1"
    # While the database is down, a job waits this long for its rows to be committed, then
    # is acknowledged with its rows held in the writer's buffer (written on recovery).
    writer_ack_wait_seconds: float = Field(default=5.0, gt=0)
    # Dead-lettered batches kept in Redis (oldest trimmed beyond this).
    dead_letter_max: int = Field(default=10_000, ge=1)
    # A slot with no row this long after its check window (timeout × attempts) closed is
    # stored as missed; the sweeper runs in the scheduler this often.
    missed_grace_seconds: int = Field(default=60, ge=0)
    missed_sweep_seconds: float = Field(default=5.0, gt=0)
    # The scheduler enqueues slots this many seconds ahead, deferred to their second, so
    # checks start on time rather than up to a scheduler tick late.
    scheduler_lead_seconds: int = Field(default=1, ge=0, le=60)

    # Outbound safety: refuse private/loopback/link-local targets unless allowed: all of
    # them (allow_private_targets), or only the listed addresses/networks, each with an
    # optional port: "127.0.0.1:8089,10.0.0.0/8,[fd00::1]:443". Cloud metadata never.
    allow_private_targets: bool = False
    allowed_private_targets: str = ""

    # Hypertable layout, read by the first migration (see docs/operations.md "Storage layout").
    chunk_interval: str = "1 day"
    hash_partitions: int = Field(default=2, ge=1, le=64)

    # Analytics (aggregator): how long raw results and rollups are kept; 0 = forever.
    raw_retention_days: int = Field(default=30, ge=1)
    hourly_retention_days: int = Field(default=365, ge=1)
    daily_retention_days: int = Field(default=0, ge=0)

    # Notifications and reports (notify/). secret_key encrypts channel secrets: one or more
    # Fernet keys, comma-separated, newest first (older ones only decrypt, for rotation).
    # `vigil up` generates one into its data folder when unset.
    secret_key: str = ""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "vigil@localhost"
    smtp_ca_file: str = ""  # CA bundle to trust for a private SMTP server's certificate
    notify_timeout_seconds: float = Field(default=10.0, gt=0)
    notify_max_attempts: int = Field(default=8, ge=1, le=50)
    # Retry n waits about base * 2^(n-1) seconds (capped), times a random 50-100 % (jitter).
    notify_backoff_base_seconds: float = Field(default=30.0, gt=0)
    notify_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    notify_batch_size: int = Field(default=50, ge=1)
    notify_poll_seconds: float = Field(default=2.0, gt=0)
    # Weekly SLO report: sent for the previous ISO week once this moment of the week passes.
    report_weekday: int = Field(default=1, ge=1, le=7, description="ISO weekday, 1 = Monday")
    report_hour: int = Field(default=8, ge=0, le=23)
    report_timezone: str = "UTC"

    # Evaluator: the tick for minute m runs at m:SS and reads the slots before m.
    # A slot's result must be stored by then to count in that tick (else it counts a minute
    # later), so SS should cover a check's timeout; lower it for faster alerts on fast checks.
    evaluator_cron_second: int = Field(default=10, ge=0, le=59)
    # Aggregator: the second of each minute its run (roll, retention, packing) starts.
    aggregator_cron_second: int = Field(default=5, ge=0, le=59)

    # API rate limits, per minute, shared by every API process through Redis. A key's own
    # limit (set when it is created) replaces rate_limit_per_minute for that key.
    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = Field(default=3000, ge=1)  # per API key
    rate_limit_address_per_minute: int = Field(default=3000, ge=1)  # per client address, requests without a key
    rate_limit_failed_auth_per_minute: int = Field(default=20, ge=1)  # failed authentications per client address
    rate_limit_outbound_per_minute: int = Field(default=6, ge=1)  # per key, routes that send traffic out

    # Stats API: identical questions within this many seconds share one answer (0 = off).
    stats_cache_seconds: float = Field(default=5.0, ge=0)
    # Public status pages, their JSON and feeds, and badges: answers kept this long (0 = off).
    status_cache_seconds: float = Field(default=10.0, ge=0)

    log_level: str = "INFO"
    # json: one JSON object per line; text: one readable line. Unset: JSON unless the
    # output is a terminal. Fields are listed in docs/logs-and-traces.md.
    log_format: str = ""

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, v: str) -> str:
        if v not in ("", "json", "text"):
            raise ValueError(f"must be json or text, got {v!r}")
        return v

    # Prometheus metrics (docs/observability.md). metrics=false stops recording on the hot
    # paths (checks, API requests, statements) and serves no metrics at all.
    metrics: bool = True
    # Each service but the API serves /metrics on
    # a port of its own, bound to metrics_host; 0 = off. Several workers on one host need a
    # port each. The API serves /metrics on its own app (loopback or the operator token).
    metrics_host: str = "127.0.0.1"
    scheduler_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    aggregator_metrics_port: int = Field(default=0, ge=0, le=65535)
    evaluator_metrics_port: int = Field(default=0, ge=0, le=65535)
    notifier_metrics_port: int = Field(default=0, ge=0, le=65535)
    # Whether the API's /metrics answers requests from loopback without the operator token
    # (turn off when a proxy on the same host forwards outside requests).
    api_metrics_loopback: bool = True

    @field_validator("allowed_private_targets")
    @classmethod
    def _allowlist(cls, v: str) -> str:
        parse_allowlist(v)
        return v

    def outbound_policy(self) -> Policy:
        """What checks and notifications may reach beyond public addresses."""
        return _policy(self.allow_private_targets, self.allowed_private_targets)


@lru_cache(maxsize=16)
def _policy(allow_private: bool, allowlist: str) -> Policy:
    return Policy(allow_private=allow_private, allowed=parse_allowlist(allowlist))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
