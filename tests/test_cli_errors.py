"""Every `vigil` command given a bad value exits non-zero with one line naming it on stderr,
never a Python traceback: the CLI run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vigil.devcluster import free_port


def _vigil(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "VIGIL_DATABASE_URL": database_url, "VIGIL_REDIS_URL": "redis://127.0.0.1:1/0",
                "VIGIL_LOG_LEVEL": "warning", **env}
    return subprocess.run([sys.executable, "-m", "vigil", *args], capture_output=True, text=True,
                          env=full_env, timeout=15)


def _assert_one_line_error(p: subprocess.CompletedProcess, *words: str) -> None:
    assert p.returncode not in (0, None), p
    assert "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert all(w in lines[0] for w in words), lines[0]


DOWN_COMMANDS = [
    ["migrate"],
    ["create-account", "acme"],
    ["revoke-key", "vgl_deadbeef_secret"],
    ["report", "--account", "acme", "--out", "/tmp/vigil-report.html"],
    ["aggregator", "--once"],
    ["seed", "--monitors", "1", "--days", "1"],
]


@pytest.mark.timeout(60)
def test_every_database_command_against_a_closed_port_says_it_cannot_reach_it_without_the_password():
    down = f"postgresql://vigil:hunter2secret@127.0.0.1:{free_port()}/vigil"
    for args in DOWN_COMMANDS:
        p = _vigil(*args, database_url=down)
        _assert_one_line_error(p, f"vigil {args[0]}:", "cannot reach the database at vigil@127.0.0.1:")
        assert "hunter2secret" not in p.stderr + p.stdout


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("args", "env", "words"), [
    (["check", "not-a-url"], {}, ["not-a-url"]),
    (["check", "heartbeat://abc"], {}, ["heartbeat://abc"]),
    (["report", "--account", "acme", "--week", "2026-W99", "--out", "x.html"], {}, ["2026-W99"]),
    (["evaluator", "--once", "--at", "yesterday-ish"], {}, ["--at", "yesterday-ish"]),
    (["seed", "--monitors", "0", "--days", "1"], {}, ["--monitors"]),
    (["create-account", "acme", "--role", "boss"], {}, ["--role", "boss"]),
    (["api", "--port", "99999"], {}, ["--port", "99999"]),
    (["create-account", " "], {}, ["account name", "' '"]),
    (["seed", "--monitors", "1", "--days", "0.01", "--account", ""], {}, ["accounts_name_check"]),
    (["seed", "--monitors", "many", "--days", "1"], {}, ["--monitors", "many"]),
    (["migrate"], {"VIGIL_DATABASE_URL": "postgresql://u:hunter2secret@[nohost"}, ["VIGIL_DATABASE_URL"]),
    (["migrate"], {"VIGIL_API_PORT": "eighty"}, ["VIGIL_API_PORT"]),
])
def test_a_bad_value_is_one_line_naming_it(settings, args, env, words):
    p = _vigil(*args, database_url=env.pop("VIGIL_DATABASE_URL", settings.database_url), **env)
    _assert_one_line_error(p, *words)
    assert "hunter2secret" not in p.stderr


@pytest.mark.timeout(60)
def test_an_unknown_account_or_key_is_named(settings):
    p = _vigil("report", "--account", "nobody-here", "--out", "/tmp/vigil-report.html",
               database_url=settings.database_url)
    _assert_one_line_error(p, "nobody-here")
    p = _vigil("revoke-key", "vgl_0badc0de_x", database_url=settings.database_url)
    _assert_one_line_error(p, "0badc0de")


@pytest.mark.timeout(60)
def test_a_report_to_a_folder_that_does_not_exist_names_the_path(settings, account):
    p = _vigil("report", "--account", "acme", "--week", "2026-W40", "--out", "/nonexistent-dir/r.html",
               database_url=settings.database_url)
    _assert_one_line_error(p, "/nonexistent-dir/r.html")
