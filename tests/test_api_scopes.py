"""The scope matrix: every operation of the app's OpenAPI document, called with a key of
each scope, is refused with 403 exactly when api/scopes.py says the scope is too narrow
(and never answers 5xx); every scoped operation refuses a request without a key; and the
table in docs/api.md is the one api/scopes.py prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.app import create_app
from api.auth import ApiKeyAuth
from api.scopes import markdown_table, scope_table
from tests.notify_fixtures import nclient, nsettings  # noqa: F401
from vigil.accounts import SCOPES, create_account_with_key, scope_covers
from vigil.settings import Settings

APP = create_app(Settings())
DOCUMENT = APP.openapi_schema.to_schema()
OPERATIONS = sorted((method.upper(), path, op["operationId"], op)
                    for path, ops in DOCUMENT["paths"].items() for method, op in ops.items())
TABLE = {op: scope for _, _, op, scope in scope_table(APP)}
API_DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"
MISSING_ID = 2_000_000_000  # no row has it: allowed calls answer 404 or 400 and change nothing


def _url(path: str, op: dict) -> str:
    for p in op.get("parameters", []):
        if p["in"] == "path":
            value = MISSING_ID if p["schema"].get("type") == "integer" else "no-such-token"
            path = path.replace("{" + p["name"] + "}", str(value))
    required = [p["name"] for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")]
    return path + ("?" + "&".join(f"{name}=x" for name in required) if required else "")


@pytest.fixture(autouse=True)
def empty_key_cache():
    ApiKeyAuth.drop()
    yield
    ApiKeyAuth.drop()


def test_the_table_names_every_operation_of_the_document_and_only_known_scopes():
    assert set(TABLE) == {op for _, _, op, _ in OPERATIONS}
    assert set(TABLE.values()) <= {*SCOPES, "none", "operator"}


@pytest.mark.parametrize(("method", "path", "operation_id", "op"), OPERATIONS,
                         ids=[o[2] for o in OPERATIONS])
async def test_each_scope_is_allowed_or_403_as_the_table_says(nclient, db, method, path, operation_id, op):  # noqa: F811
    needed = TABLE[operation_id]
    url = _url(path, op)
    keys = {scope: create_account_with_key(db, "acme", scope)[1] for scope in SCOPES}
    if needed != "none":
        r = await nclient.request(method, url)
        assert r.status_code == 401, r.text
    for scope, token in keys.items():
        r = await nclient.request(method, url, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code < 500, r.text
        if needed == "operator":  # no tenant key opens an operator route
            assert r.status_code == 403, f"{scope} key on {operation_id}: {r.status_code} {r.text}"
        elif needed != "none" and not scope_covers(scope, needed):
            assert r.status_code == 403, f"{scope} key on {operation_id}: {r.status_code} {r.text}"
            assert f"'{needed}' scope" in r.json()["detail"]
        else:
            assert r.status_code != 403, f"{scope} key on {operation_id}: {r.text}"


def test_the_api_docs_show_the_scope_table():
    text = API_DOCS.read_text()
    assert markdown_table(APP) in text, "docs/api.md's scope table differs: paste `python -m api.scopes`"
