"""`vigil create-account`, `create-user` and `operator-token` as real subprocesses: a
refused value is one line naming it, never a traceback."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from tests.signin_fixtures import PASSWORD
from vigil.passwords import verify_password

CHEAP = {"VIGIL_ARGON2_TIME_COST": "1", "VIGIL_ARGON2_MEMORY_KIB": "8192", "VIGIL_ARGON2_PARALLELISM": "1"}


def _vigil(settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "VIGIL_DATABASE_URL": settings.database_url, "VIGIL_REDIS_URL": settings.redis_url,
           "VIGIL_LOG_LEVEL": "warning", **CHEAP}
    return subprocess.run([sys.executable, "-m", "vigil", *args], capture_output=True, text=True, env=env,
                          input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL, timeout=30)


def _one_line_error(p: subprocess.CompletedProcess, *words: str) -> str:
    assert p.returncode == 2, p
    assert "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and all(w in lines[0] for w in words), p.stderr
    return lines[0]


@pytest.mark.timeout(60)
def test_create_account_refuses_an_existing_account_unless_asked_to_add_a_key(settings, db):
    first = _vigil(settings, "create-account", "acme")
    assert first.returncode == 0, first.stderr
    p = _vigil(settings, "create-account", "acme", "--role", "member")
    _one_line_error(p, "'acme' already exists", "--add-key")
    assert db.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 1
    p = _vigil(settings, "create-account", "acme", "--add-key", "--role", "member")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["scope"] == "read"  # "member" is the old name of the read scope
    assert db.execute("SELECT count(*) FROM accounts").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 2
    _one_line_error(_vigil(settings, "create-account", "nobody", "--add-key"), "no account named 'nobody'")


@pytest.mark.timeout(60)
def test_create_user_stores_an_argon2_hash_and_the_user_can_sign_in(settings, db, account):
    p = _vigil(settings, "create-user", "--account", "acme", "--email", "ops@example.com", "--role", "admin",
               "--password-stdin", stdin=PASSWORD + "\n")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["role"] == "admin"
    stored = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(settings, stored, PASSWORD)


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("args", "stdin", "words"), [
    (["--account", "nobody", "--email", "a@example.com", "--role", "admin"], PASSWORD, ["no account named 'nobody'"]),
    (["--account", "acme", "--email", "not-an-email", "--role", "admin"], PASSWORD, ["not-an-email"]),
    (["--account", "acme", "--email", "a@example.com", "--role", "owner"], PASSWORD, ["--role", "owner"]),
    (["--account", "acme", "--email", "a@example.com", "--role", "read"], "short", ["at least 10"]),
    (["--account", "acme", "--email", "taken@example.com", "--role", "read"], PASSWORD,
     ["'TAKEN@example.com' already exists"]),
])
def test_create_user_names_the_bad_value(settings, db, account, args, stdin, words):
    from tests.signin_fixtures import CHEAP_ARGON2
    from vigil.users import create_user

    create_user(db, settings.model_copy(update=CHEAP_ARGON2), "acme", "taken@example.com", PASSWORD, "read")
    args = [a.replace("taken@", "TAKEN@") for a in args]
    _one_line_error(_vigil(settings, "create-user", *args, "--password-stdin", stdin=stdin + "\n"), *words)
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 1


@pytest.mark.timeout(60)
def test_create_user_without_a_terminal_asks_for_password_stdin(settings, account):
    p = _vigil(settings, "create-user", "--account", "acme", "--email", "a@example.com", "--role", "read")
    _one_line_error(p, "--password-stdin")


@pytest.mark.timeout(60)
def test_operator_token_prints_a_token_and_its_hash_line(settings):
    p = _vigil(settings, "operator-token")
    assert p.returncode == 0, p.stderr
    token, line = p.stdout.strip().splitlines()
    assert token.startswith("vop_") and len(token) > 40
    assert line == f"VIGIL_OPERATOR_TOKEN_HASH={hashlib.sha256(token.encode()).hexdigest()}"
    assert _vigil(settings, "operator-token").stdout.split()[0] != token
