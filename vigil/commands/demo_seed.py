"""What `vigil up` adds to the demo account on first start, so a newcomer sees figures at
once: a week of history for each demo monitor shaped like its endpoint on the demo target
(written with the seeder's binary COPY), a webhook channel to the receiver the demo target
serves, and down rules (2 failed slots in a row) on the flapping and the down monitor.

Done once: history older than a monitor's creation can only have come from here, so its
presence is the mark (a second start keeps the data and seeds nothing)."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from aggregator.history import Columns, copy_columns, latencies
from ingest.slots import phase_for
from notify.channels import parse_config, split_config
from notify.crypto import encrypt_secrets
from vigil.constants import ErrorKind

DAYS = 7
# Per demo target path (vigil/commands/demo.py): median latency in µs, latency shape, down pattern.
PROFILES = {
    "/ok": (10_000, "lognormal", "rare"),
    "/api": (20_000, "pareto", "rare"),
    "/ok?page=login": (10_000, "bimodal", "rare"),
    "/slow": (1_000_000, "lognormal", "rare"),
    "/flap": (10_000, "lognormal", "flap"),   # down one minute in three, like the target
    "/down": (5_000, "lognormal", "always"),
}
ALERTING = ("/flap", "/down")
CHANNEL_NAME = "demo receiver"


def webhook_secret(secret_key: str) -> str:
    """The demo channel's signing secret, derived from VIGIL_SECRET_KEY so the demo target
    (which gets the same environment) can verify deliveries without storing anything."""
    return hashlib.sha256(f"vigil demo webhook:{secret_key}".encode()).hexdigest()[:32]


def _history(rng: np.random.Generator, monitor_id: int, interval_s: int, start: int, end: int,
             profile: tuple[int, str, str]) -> Columns:
    median_us, shape, pattern = profile
    phase = phase_for(monitor_id, interval_s)
    slots = np.arange(start + (phase - start) % interval_s, end, interval_s, dtype=np.int64)
    n = len(slots)
    if pattern == "always":
        down = np.ones(n, dtype=bool)
    elif pattern == "flap":
        down = (slots // 60) % 3 == 2
    else:  # a couple of short outages over the week
        down = np.zeros(n, dtype=bool)
        for at in rng.integers(0, n, 2):
            down[at:at + int(rng.integers(2, 12))] = True
    up = ~down
    return Columns(time=slots, monitor_id=np.full(n, monitor_id, dtype=np.int32),
                   region_id=np.full(n, 1, dtype=np.int16), latency_us=latencies(rng, shape, median_us, n),
                   up=up, error_kind=np.where(down, int(ErrorKind.http_status), 0).astype(np.int16))


def seed_demo(conn: psycopg.Connection, account_id: int, base_url: str, secret_key: str,
              now: int | None = None) -> int | None:
    """Seed the demo account once; returns rows written, or None when already seeded."""
    monitors = conn.execute(
        "SELECT id, target, interval_s, extract(epoch FROM created_at)::bigint FROM monitors"
        " WHERE account_id = %s AND target LIKE %s ORDER BY id", (account_id, base_url + "/%")).fetchall()
    ids = [m[0] for m in monitors]
    if not ids or conn.execute(
            "SELECT EXISTS (SELECT 1 FROM check_results r JOIN monitors m ON m.id = r.monitor_id"
            " WHERE r.monitor_id = ANY(%s) AND r.time < m.created_at)", (ids,)).fetchone()[0]:
        return None
    region = conn.execute("INSERT INTO regions (name) VALUES ('local') ON CONFLICT (name)"
                          " DO UPDATE SET name = excluded.name RETURNING id").fetchone()[0]
    rng = np.random.default_rng(7)
    rows = 0
    with conn.transaction():
        for mid, target, interval_s, created in monitors:
            end = min(created, now or int(time.time()))
            cols = _history(rng, mid, interval_s, end - DAYS * 86_400, end, PROFILES[target[len(base_url):]])
            cols.region_id[:] = region
            copy_columns(conn, cols)
            rows += len(cols)
        _alerting(conn, account_id, base_url, secret_key,
                  [mid for mid, target, *_ in monitors if target[len(base_url):] in ALERTING])
    return rows


def _alerting(conn: psycopg.Connection, account_id: int, base_url: str, secret_key: str,
              monitor_ids: list[int]) -> None:
    public, secrets = split_config("webhook", parse_config(
        "webhook", {"url": base_url + "/hook", "secret": webhook_secret(secret_key)}, allow_private=True))
    channel = conn.execute(
        "INSERT INTO channels (account_id, kind, name, config, secret_ciphertext)"
        " VALUES (%s, 'webhook', %s, %s, %s) RETURNING id",
        (account_id, CHANNEL_NAME, Jsonb(public), encrypt_secrets(secret_key, secrets))).fetchone()[0]
    conn.execute(
        "INSERT INTO alert_rules (account_id, name, kind, monitor_id, params, channel_ids, recovery_slots)"
        " SELECT %s, m.name || ' down', 'down', m.id, '{\"failures\": 2}', ARRAY[%s], 2"
        " FROM monitors m WHERE m.id = ANY(%s)", (account_id, channel, monitor_ids))
