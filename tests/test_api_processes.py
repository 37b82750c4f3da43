"""Two real API processes (uvicorn, as `vigil api` serves) sharing one database and one
Redis: a key revoked through one is refused by the other within a second (its cache would
keep it for ten), and rate limits count the requests of both."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.services import running
from vigil.accounts import create_account_with_key
from vigil.devcluster import free_port, wait_for_port
from vigil.settings import Settings

M = "/api/v1/monitors"


@pytest.fixture
def two_apis(settings: Settings) -> Iterator[tuple[str, str, str]]:
    """(admin key, base URL of process A, of process B)"""
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        _, key = create_account_with_key(conn, "acme", "admin")
    ports = [free_port(), free_port()]
    with running(settings, *(["api", "--port", str(p)] for p in ports), VIGIL_LOG_LEVEL="WARNING"):
        for p in ports:
            wait_for_port(p, 30)
        yield key, *(f"http://127.0.0.1:{p}" for p in ports)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.timeout(90)
def test_a_key_revoked_through_one_process_is_refused_by_the_other_within_a_second(two_apis):
    admin, a, b = two_apis
    created = httpx.post(f"{a}/api/v1/keys", headers=bearer(admin), json={"scope": "read"}).json()
    h = bearer(created["token"])
    for base in (a, b):  # cached in both processes now
        assert httpx.get(f"{base}{M}", headers=h).status_code == 200
    time.sleep(0.2)
    assert httpx.get(f"{b}{M}", headers=h).status_code == 200
    assert httpx.delete(f"{a}/api/v1/keys/{created['id']}", headers=bearer(admin)).status_code == 204
    revoked, statuses = time.monotonic(), []
    while time.monotonic() - revoked < 1.0:
        statuses.append(httpx.get(f"{b}{M}", headers=h).status_code)
        if statuses[-1] == 401:
            break
        time.sleep(0.02)
    assert statuses[-1] == 401, f"process B still accepted the key a second after revocation: {statuses}"
    assert httpx.get(f"{a}{M}", headers=h).status_code == 401


@pytest.mark.timeout(90)
def test_rate_limits_count_the_requests_of_every_process(two_apis):
    admin, a, b = two_apis
    created = httpx.post(f"{a}/api/v1/keys", headers=bearer(admin),
                         json={"scope": "read", "rate_limit_per_minute": 10}).json()
    h = bearer(created["token"])
    statuses = [httpx.get(f"{(a, b)[i % 2]}{M}", headers=h).status_code for i in range(14)]
    assert statuses == [200] * 10 + [429] * 4
    # Failed authentications from this address, alternating between the processes.
    bad = bearer("vgl_deadbeef_not-a-key")
    limit = Settings().rate_limit_failed_auth_per_minute
    statuses = [httpx.get(f"{(a, b)[i % 2]}{M}", headers=bad).status_code for i in range(limit + 2)]
    assert statuses == [401] * limit + [429] * 2
    assert httpx.get(f"{b}{M}", headers=bearer(admin)).status_code == 200
