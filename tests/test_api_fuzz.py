"""Property-based fuzzing of every API operation from the app's own OpenAPI document
(schemathesis): whatever a client sends, the answer is never a 5xx and always matches the
documented response schema. Runs against a real uvicorn on a free loopback port, a real
database and an admin key; bounded (few examples per operation, derandomized) for CI."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.app import create_app
from notify.crypto import generate_key
from vigil.accounts import create_account_with_key
from vigil.devcluster import free_port
from vigil.settings import Settings

EXAMPLES_PER_OPERATION = 50

# The document is the app's own, built without starting it (no database needed to read it).
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi_schema.to_schema())


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread: signals stay with pytest
        pass


def _existing(base_url: str, headers: dict[str, str]) -> dict[str, int | str]:
    """Real rows for the path parameters, so fuzzed bodies and queries also reach the code
    behind a found row: a heartbeat monitor with a token, a webhook channel, a notification."""
    monitor = httpx.post(f"{base_url}/api/v1/monitors", headers=headers, json={
        "name": "fuzzed", "kind": "heartbeat", "target": "heartbeat://fuzz", "interval_s": 60}).json()
    token = httpx.post(f"{base_url}/api/v1/monitors/{monitor['id']}/heartbeat-token", headers=headers).json()
    channel = httpx.post(f"{base_url}/api/v1/channels", headers=headers, json={
        "name": "hook", "kind": "webhook",
        "config": {"url": "https://hooks.example.com/x", "secret": "fuzz-secret-0123456789"}}).json()
    sent = httpx.post(f"{base_url}/api/v1/channels/{channel['id']}/test", headers=headers).json()
    key = httpx.post(f"{base_url}/api/v1/keys", headers=headers, json={"name": "fuzzed", "scope": "read"}).json()
    return {"monitor_id": monitor["id"], "token": token["token"], "channel_id": channel["id"],
            "notification_id": sent["notification_id"], "key_id": key["id"]}


@pytest.fixture(scope="module")
def api(base_settings: Settings) -> Iterator[tuple[str, dict[str, str], dict[str, int | str]]]:
    """(base URL, admin auth headers, ids of existing rows) of a live API on a free port."""
    import psycopg

    # Rate limits stay on (their code runs on every call) but far above what the fuzzer sends.
    s = base_settings.model_copy(update={"secret_key": generate_key(), "rate_limit_per_minute": 10**6,
                                         "rate_limit_outbound_per_minute": 10**6})
    with psycopg.connect(s.database_url, autocommit=True) as conn:
        _, key = create_account_with_key(conn, "fuzz", "admin")
        own_key_id = conn.execute("SELECT max(id) FROM api_keys").fetchone()[0]
    port = free_port()
    server = _Server(uvicorn.Config(create_app(s), host="127.0.0.1", port=port, log_level="error", server_header=False,
                                    lifespan="on", ws="none", loop="asyncio"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    base_url, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    try:
        yield base_url, headers, {**_existing(base_url, headers), "own_key_id": own_key_id}
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.timeout(120)
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx_or_off_schema(case, api):
    base_url, headers, existing = api
    if case.method == "DELETE" and (case.path_parameters or {}).get("key_id") == existing["own_key_id"]:
        return  # revoking the fuzzer's own key would leave every later call a 401
    checks = [not_a_server_error, response_schema_conformance]
    case.call_and_validate(base_url=base_url, headers=headers, checks=checks)
    # Generated ids almost never exist: try the same input again on real rows (never deleting them).
    params = case.path_parameters or {}
    if case.method != "DELETE" and any(name in existing for name in params):
        case.path_parameters = {**params, **{k: existing[k] for k in params if k in existing}}
        case.call_and_validate(base_url=base_url, headers=headers, checks=checks)
