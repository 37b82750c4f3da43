"""A check kind is its module plus one registration line: the API's monitor validation and
OpenAPI document, and `vigil check`'s flags, all come from the registry. Proved with a
kind written only for the tests (tests/toy_kind.py) in real processes: the API served by
uvicorn on a free port over the test database, and `vigil check`."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from ingest.checks import KINDS, http, tcp, tls
from ingest.checks.base import STORED_TIMEOUTS, Timeouts, flag
from ingest.checks.registry import Registry
from tests import toy_kind
from vigil.devcluster import free_port

M = "/api/v1/monitors"


def _env(settings) -> dict[str, str]:
    return {**os.environ, "VIGIL_DATABASE_URL": settings.database_url, "VIGIL_REDIS_URL": settings.redis_url,
            "VIGIL_LOG_LEVEL": "warning"}


def _vigil_with_echo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.toy_kind", *args], capture_output=True, text=True,
                          env=env, timeout=30)


@pytest.fixture
def echo_api(settings, account) -> Iterator[tuple[httpx.Client, dict]]:
    """(client of a live API with the echo kind registered, its OpenAPI document)."""
    port = free_port()
    with subprocess.Popen([sys.executable, "-m", "tests.toy_kind", "api", "--host", "127.0.0.1",
                           "--port", str(port)], env=_env(settings), stderr=subprocess.PIPE) as proc:
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}",
                              headers={"Authorization": f"Bearer {account[1]}"}, timeout=10) as client:
                deadline = time.monotonic() + 30
                while True:
                    assert proc.poll() is None, proc.stderr.read().decode()
                    assert time.monotonic() < deadline, "the API did not start"
                    try:
                        document = client.get("/api/v1/schema/openapi.json")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                yield client, document.json()
        finally:
            proc.terminate()


@pytest.mark.timeout(90)
def test_a_registered_kind_is_validated_and_documented_by_the_api(echo_api):
    client, document = echo_api
    schemas = document["components"]["schemas"]
    assert "echo" in schemas["MonitorCreate"]["properties"]["kind"]["enum"]
    assert {"$ref": "#/components/schemas/EchoOptions"} in schemas["MonitorCreate"]["properties"]["expectations"]["oneOf"]
    assert "word" in schemas["EchoOptions"]["properties"]
    timeout = schemas["MonitorCreate"]["properties"]["timeout_ms"]  # the widest bounds, said to vary
    assert timeout["maximum"] == 120_000 and "kind" in timeout["description"]

    r = client.post(M, json={"name": "e", "kind": "echo", "target": "echo://hello", "expectations": {"word": "hello"}})
    assert r.status_code == 201, r.text
    assert r.json()["expectations"] == {"word": "hello"} and r.json()["timeout_ms"] == 1_000  # the kind's default

    refused = {
        "target": {"target": "echo://42"},
        "expectations.echo.keyword": {"target": "echo://hi", "expectations": {"keyword": "x"}},
        "expectations.echo.word": {"target": "echo://hi", "expectations": {"word": ""}},
        "timeout_ms": {"target": "echo://hi", "timeout_ms": 6_000},  # the kind's bound, not the stored one
    }
    for field, body in refused.items():
        r = client.post(M, json={"name": "e", "kind": "echo", **body})
        assert r.status_code == 400 and field in r.text, (field, r.text)
    assert "echo://word" in client.post(M, json={"name": "e", "kind": "echo", "target": "echo://42"}).text
    r = client.post(M, json={"name": "h", "target": "https://example.com", "expectations": {"word": "x"}})
    assert r.status_code == 400 and "expectations.http.word" in r.text


@pytest.mark.timeout(60)
def test_a_registered_kind_is_run_by_vigil_check_with_its_own_flags(settings):
    env = _env(settings)
    up = _vigil_with_echo("check", "echo://hello", "--word", "hello", env=env)
    assert up.returncode == 0, up.stderr
    assert '"kind": "echo"' in up.stdout and '"said": "hello"' in up.stdout
    down = _vigil_with_echo("check", "echo://hello", "--word", "bye", env=env)
    assert down.returncode == 1 and '"error_kind": "assertion"' in down.stdout

    for args, message in [
        (["echo://hello", "--keyword", "x"], "--keyword does not apply to echo checks"),
        (["https://example.com", "--word", "x"], "--word does not apply to http checks"),
        (["echo://hello", "--timeout-ms", "6000"], "--timeout-ms must be between 200 and 5000 for echo checks"),
        (["echo://4"], "echo://word"),
    ]:
        p = _vigil_with_echo("check", *args, env=env)
        assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)
    usage = _vigil_with_echo("check", "--help", env=env).stdout
    assert "echo://word" in usage and "echo: the word the target must say" in usage


def test_every_registered_kind_is_in_the_api_document_and_the_cli_parser():
    from api.app import create_app
    from vigil.cli import build_parser
    from vigil.settings import Settings

    schemas = create_app(Settings()).openapi_schema.to_schema()["components"]["schemas"]
    create = schemas["MonitorCreate"]["properties"]
    parser = build_parser()
    parser.parse_args(["check", "https://example.com"])  # the check command's flags are added when it is used
    check = parser._subparsers._group_actions[0].choices["check"]
    flags = {option: action.dest for action in check._actions for option in action.option_strings}
    assert create["kind"]["enum"] == list(KINDS)
    assert create["timeout_ms"]["maximum"] == max(k.timeouts.max_ms for k in KINDS.values())
    for name, kind in KINDS.items():
        title = kind.options.__name__
        assert {"$ref": f"#/components/schemas/{title}"} in create["expectations"]["oneOf"]
        assert set(schemas[title]["properties"]) == set(kind.options.model_fields)
        for f in kind.flags:
            assert flags[f.name] == f.field and f.field in kind.options.model_fields, (name, f)
        for scheme in kind.schemes:
            assert KINDS.of_scheme(scheme) is kind


def test_kinds_that_clash_are_refused_when_registered():
    echo = toy_kind.KIND
    with pytest.raises(ValueError, match="registered already"):
        Registry(http.KIND, http.KIND)
    with pytest.raises(ValueError, match="URL scheme 'https' belongs to http"):
        Registry(http.KIND, dataclasses.replace(echo, schemes=("https",)))
    with pytest.raises(ValueError, match="flag --insecure"):  # one flag, two meanings
        Registry(http.KIND, dataclasses.replace(echo, flags=(flag("--insecure", "word", "x"),)))
    with pytest.raises(ValueError, match="flag --say"):  # one field, two flags
        Registry(tls.KIND, dataclasses.replace(echo, flags=(flag("--say", "cert_min_days", "x"),)))
    with pytest.raises(ValueError, match="exceed what monitors store"):
        Registry(dataclasses.replace(echo, timeouts=Timeouts(100, 1_000, STORED_TIMEOUTS.max_ms + 1)))
    # Kinds may share a flag that means the same to both.
    assert [f.help for f in Registry(http.KIND, tls.KIND).cli_flags() if f.name == "--insecure"] == [
        "http, tls: do not verify the certificate chain and name"]


def test_a_kind_registered_after_the_schemas_were_built_is_refused():
    registry = Registry(http.KIND, tcp.KIND)
    registry.options_union()
    with pytest.raises(RuntimeError, match="register it before"):
        registry.register(toy_kind.KIND)
