"""Fresh cached stats answers sent before Litestar's route handling (api/stats/shortcut.py):
the same answer as the handler's, only for the question the handler cached, after
authentication and the rate limit."""

from __future__ import annotations

import re

import pytest
from prometheus_client import REGISTRY

from api.stats.cache import AnswerCache
from api.stats.controllers import ANSWER_QUERIES
from tests.stats_fixtures import BASE, seed
from vigil.accounts import create_account_with_key

WINDOW = {"from": BASE.isoformat(), "to": BASE.replace(hour=3).isoformat()}
ROUTE_HEADERS = ("content-type", "content-length", "ratelimit-limit", "x-content-type-options", "x-frame-options",
                 "referrer-policy", "content-security-policy")


@pytest.fixture
def seeded(db, account):
    other, other_key = create_account_with_key(db, "other", "admin")
    return seed(db, account[0], other), other_key


@pytest.fixture
def handler_asks(monkeypatch) -> list[tuple]:
    """The cache keys the handlers ask the answer cache for (the shortcut reads it directly)."""
    asked: list[tuple] = []
    real = AnswerCache.get

    async def counted(self, key, compute, batch=None):
        asked.append(key)
        return await real(self, key, compute, batch)
    monkeypatch.setattr(AnswerCache, "get", counted)
    return asked


def _questions(seeded) -> list[tuple[str, dict]]:
    shop = seeded.monitors["shop"]["id"]
    return [(f"/api/v1/monitors/{shop}/stats", WINDOW),
            (f"/api/v1/monitors/{shop}/stats", {**WINDOW, "region": "eu"}),
            (f"/api/v1/monitors/{shop}/series", {**WINDOW, "resolution": "1h"}),
            (f"/api/v1/monitors/{shop}/status", {"limit": "20"}),
            (f"/api/v1/monitors/{shop}/status", {}),
            (f"/api/v1/monitors/{shop}/regions", WINDOW),
            (f"/api/v1/monitors/{shop}/downtimes", WINDOW),
            ("/api/v1/stats", {**WINDOW, "tag": "web"})]


def _timed(route: str) -> float:
    """How many requests the API's request histogram counted for a route, answered 200."""
    return REGISTRY.get_sample_value("vigil_api_request_duration_seconds_count",
                                     {"method": "GET", "route": route, "status": "200"}) or 0.0


async def test_a_repeated_question_gets_the_handlers_answer_without_the_handler(client, auth, seeded, handler_asks):
    for path, query in _questions(seeded[0]):
        first = await client.get(path, params=query, headers=auth)
        assert first.status_code == 200, first.text
        asked = len(handler_asks)
        route = re.sub(r"/monitors/\d+/", "/monitors/{monitor_id}/", path)
        timed = _timed(route)
        again = await client.get(path, params=query, headers=auth)
        assert len(handler_asks) == asked, f"{path} {query} reached the handler again"
        assert _timed(route) == timed + 1  # measured under its route, as the handler's answers are
        assert again.status_code == 200 and again.content == first.content
        for name in ROUTE_HEADERS:
            assert again.headers[name] == first.headers[name], name
        # The rate limit still counted it; the request id is its own.
        assert int(again.headers["ratelimit-remaining"]) < int(first.headers["ratelimit-remaining"])
        assert again.headers["x-request-id"] != first.headers["x-request-id"]


async def test_only_the_same_question_of_the_same_account_is_answered_early(client, auth, seeded, handler_asks):
    seeded, other_key = seeded
    shop = seeded.monitors["shop"]["id"]
    path = f"/api/v1/monitors/{shop}/status"
    assert (await client.get(path, params={"limit": "20"}, headers=auth)).status_code == 200
    # A number the handler reads (or refuses) itself, another value, another account: each
    # goes to the handler; the other account's key gets its 404, not this account's answer.
    for query, headers, status in (({"limit": "020"}, auth, 400), ({"limit": "20.0"}, auth, 200),
                                   ({"limit": "21"}, auth, 200), ({"limit": "20", "region": "eu"}, auth, 200),
                                   ({"limit": "20"}, {"Authorization": f"Bearer {other_key}"}, 404)):
        asked = len(handler_asks)
        r = await client.get(path, params=query, headers=headers)
        assert r.status_code == status, (query, r.text)
        assert len(handler_asks) == asked + (status != 400), query
    # The handler reads "20.0" as 20, and answers it from the cache as the plain 20.
    assert handler_asks[1] == handler_asks[0]


async def test_without_a_valid_key_nothing_is_answered_early(client, auth, seeded):
    shop = seeded[0].monitors["shop"]["id"]
    path = f"/api/v1/monitors/{shop}/stats"
    assert (await client.get(path, params=WINDOW, headers=auth)).status_code == 200
    for headers in ({}, {"Authorization": auth["Authorization"][:-2] + "xx"}):
        assert (await client.get(path, params=WINDOW, headers=headers)).status_code == 401


async def test_every_stats_route_keys_its_answer_by_its_own_query_parameters(client):
    """The cache key lists ANSWER_QUERIES' names in order; a route taking a parameter the
    table lacks would share one answer between questions that differ in it."""
    doc = (await client.get("/api/v1/schema/openapi.json")).json()
    taken = {op["operationId"]: {p["name"] for p in op.get("parameters", ()) if p["in"] == "query"}
             for methods in doc["paths"].values() for op in methods.values() if isinstance(op, dict)}
    for operation_id, params in ANSWER_QUERIES.items():
        assert taken[operation_id] == {name for name, _ in params}, operation_id
