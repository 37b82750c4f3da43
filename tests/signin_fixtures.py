"""Fixtures for users, sign-in and operator tests: an app with a JWT secret, cheap argon2
costs and an operator token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from vigil.operator import generate_operator_token
from vigil.settings import Settings
from vigil.users import create_user

PASSWORD = "correct horse battery"
EMAIL = "Ada@Example.com"
OPERATOR_TOKEN, OPERATOR_HASH = generate_operator_token()
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}


@pytest.fixture
def ssettings(settings: Settings) -> Settings:
    return settings.model_copy(update={"jwt_secret": "s" * 48, "operator_token_hash": OPERATOR_HASH,
                                       **CHEAP_ARGON2})


@pytest.fixture
async def sclient(ssettings: Settings) -> AsyncIterator[AsyncTestClient]:
    from api.app import create_app

    async with AsyncTestClient(app=create_app(ssettings)) as c:
        yield c


@pytest.fixture
def user(db, ssettings: Settings, account) -> int:
    """An admin user of the account "acme" (the ``account`` fixture's)."""
    return create_user(db, ssettings, "acme", EMAIL, PASSWORD, "admin")


async def sign_in(client, email: str = EMAIL, password: str = PASSWORD) -> dict:
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


OPERATOR = bearer(OPERATOR_TOKEN)
