"""The stats API against exact answers computed from the raw rows the test inserts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.stats_fixtures import BASE, MISSED, SLOTS, STEP, percentile, seed, slots
from vigil.accounts import create_account_with_key

WINDOW = {"from": BASE.isoformat(), "to": (BASE + SLOTS * STEP).isoformat()}
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99_9": 0.999}


@pytest.fixture
async def uncached(settings):
    """A client of an API whose stats answers are never cached."""
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    async with AsyncTestClient(app=create_app(settings.model_copy(update={"stats_cache_seconds": 0}))) as c:
        yield c


@pytest.fixture
def seeded(db, account):
    other, _ = create_account_with_key(db, "other", "admin")
    return seed(db, account[0], other)


def _counts(statuses: dict) -> dict[str, int]:
    values = list(statuses.values())
    return {k: values.count(k) for k in ("up", "down", "missed")}


def _assert_latency_close(latency: dict, rows: list) -> None:
    for key, q in QUANTILES.items():
        exact = percentile(rows, q)
        assert latency[key] == pytest.approx(exact, rel=0.01), key
    up = [r.latency_us / 1000 for r in rows if r.up]
    assert latency["min"] == pytest.approx(min(up), abs=0.001)
    assert latency["max"] == pytest.approx(max(up), abs=0.001)
    assert latency["mean"] == pytest.approx(sum(up) / len(up), abs=0.001)


async def test_monitor_stats_apply_quorum_and_exclude_missed_slots(client, auth, seeded):
    shop = seeded.monitors["shop"]
    r = await client.get(f"/api/v1/monitors/{shop['id']}/stats", params=WINDOW, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    n = _counts(slots(seeded.of("shop"), 2))
    # 5 + 10 + 3 quorum-down slots; slot 50 (one region down) is up; 60, 61, 70 are missed.
    assert n == {"up": 170 - 18 - 3, "down": 18, "missed": 3}
    assert (body["up_slots"], body["down_slots"], body["missed_slots"]) == (n["up"], n["down"], n["missed"])
    assert body["slots"] == 170 and body["checks"] == sum(1 for r in seeded.of("shop") if r.error_kind != MISSED)
    assert body["uptime_pct"] == pytest.approx(100 * n["up"] / (n["up"] + n["down"]))
    allowed = (n["up"] + n["down"]) * 0.01
    assert body["error_budget_remaining_pct"] == pytest.approx(100 * (1 - n["down"] / allowed))
    assert body["slo_target"] == pytest.approx(99.0)
    assert body["from"].startswith("2026-11-20T00:00:00") and body["to"].startswith("2026-11-20T03:00:00")
    _assert_latency_close(body["latency_ms"], seeded.of("shop"))


async def test_one_region_is_its_own_view_without_quorum(client, auth, seeded):
    shop = seeded.monitors["shop"]
    r = await client.get(f"/api/v1/monitors/{shop['id']}/stats", params={**WINDOW, "region": "eu"}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    n = _counts(slots(seeded.of("shop", "eu"), 1))
    assert (body["up_slots"], body["down_slots"], body["missed_slots"]) == (n["up"], n["down"], n["missed"])
    assert body["region"] == "eu"
    _assert_latency_close(body["latency_ms"], seeded.of("shop", "eu"))


async def test_regions_break_down_every_region(client, auth, seeded):
    shop = seeded.monitors["shop"]
    r = await client.get(f"/api/v1/monitors/{shop['id']}/regions", params=WINDOW, headers=auth)
    assert r.status_code == 200, r.text
    regions = {x["region"]: x for x in r.json()["regions"]}
    assert set(regions) == {"eu", "us", "ap"}
    for name, got in regions.items():
        n = _counts(slots(seeded.of("shop", name), 1))
        assert (got["up_slots"], got["down_slots"], got["missed_slots"]) == (n["up"], n["down"], n["missed"])
        assert got["uptime_pct"] == pytest.approx(100 * n["up"] / (n["up"] + n["down"]))
        _assert_latency_close(got["latency_ms"], seeded.of("shop", name))


async def test_group_by_tag_weights_slots_and_error_budgets(client, auth, seeded):
    r = await client.get("/api/v1/stats", params={**WINDOW, "tag": "web"}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    shop, blog = seeded.monitors["shop"], seeded.monitors["blog"]
    assert body["monitor_ids"] == [shop["id"], blog["id"]]  # not "db", not the other account's
    a, b = _counts(slots(seeded.of("shop"), 2)), _counts(slots(seeded.of("blog"), 1))
    up, down = a["up"] + b["up"], a["down"] + b["down"]
    assert (body["up_slots"], body["down_slots"]) == (up, down)
    assert body["uptime_pct"] == pytest.approx(100 * up / (up + down))
    allowed = (a["up"] + a["down"]) * 0.01 + (b["up"] + b["down"]) * 0.001
    assert body["error_budget_remaining_pct"] == pytest.approx(100 * (1 - down / allowed))
    _assert_latency_close(body["latency_ms"], seeded.of("shop") + seeded.of("blog"))
    per_monitor = {m["monitor_id"]: m for m in body["monitors"]}
    assert per_monitor[blog["id"]]["down_slots"] == 3
    assert per_monitor[blog["id"]]["error_budget_remaining_pct"] == pytest.approx(
        100 * (1 - 3 / ((b["up"] + b["down"]) * 0.001)))


async def test_hourly_series_fills_empty_buckets(client, auth, seeded):
    shop = seeded.monitors["shop"]
    params = {"from": BASE.isoformat(), "to": (BASE + timedelta(hours=5)).isoformat(), "resolution": "1h"}
    r = await client.get(f"/api/v1/monitors/{shop['id']}/series", params=params, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resolution"] == "1h" and body["step_s"] == 3600
    points = body["points"]
    assert len(points) == 5
    statuses = slots(seeded.of("shop"), 2)
    for h, p in enumerate(points[:3]):
        hour = {t: s for t, s in statuses.items() if BASE + timedelta(hours=h) <= t < BASE + timedelta(hours=h + 1)}
        assert (p["up_slots"], p["down_slots"], p["missed_slots"]) == tuple(_counts(hour).values())
        rows = [x for x in seeded.of("shop") if x.time in hour]
        assert p["latency_p99_ms"] == pytest.approx(percentile(rows, 0.99), rel=0.01)
    assert points[2]["slots"] == 50  # 10 slots of the third hour were never stored
    for p in points[3:]:
        assert p["slots"] == 0 and p["uptime_pct"] is None and p["latency_p50_ms"] is None


async def test_raw_series_has_one_point_per_slot_including_gaps(client, auth, seeded):
    shop = seeded.monitors["shop"]
    start = BASE + 115 * STEP
    params = {"from": start.isoformat(), "to": (start + 20 * STEP).isoformat()}
    r = await client.get(f"/api/v1/monitors/{shop['id']}/series", params=params, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resolution"] == "raw" and body["step_s"] == 60  # auto picks raw for 20 minutes
    points = body["points"]
    assert len(points) == 20
    assert [p["slots"] for p in points] == [1] * 5 + [0] * 10 + [1] * 5
    first = [x for x in seeded.of("shop") if x.time == start]
    assert points[0]["latency_p50_ms"] == pytest.approx(percentile(first, 0.5), rel=1e-6)
    assert points[5]["latency_p50_ms"] is None


async def test_downtimes_merge_consecutive_down_slots(client, auth, seeded):
    shop = seeded.monitors["shop"]
    r = await client.get(f"/api/v1/monitors/{shop['id']}/downtimes", params=WINDOW, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    got = [(p["started_at"], p["ended_at"], p["down_slots"], p["ongoing"]) for p in body["periods"]]

    def t(i):
        return (BASE + i * STEP).isoformat().replace("+00:00", "Z")
    assert got == [(t(30), t(35), 5, False), (t(100), t(110), 10, False), (t(177), t(180), 3, True)]
    assert body["downtime_s"] == (5 + 10 + 3) * 60


async def test_status_reports_current_run_and_sparkline(client, auth, db, seeded):
    blog = seeded.monitors["blog"]
    eu = db.execute("SELECT id FROM regions WHERE name = 'eu'").fetchone()[0]
    now = db.execute("SELECT date_trunc('minute', now())").fetchone()[0]
    rows = [(now - i * STEP, blog["id"], eu, i >= 4, 0 if i >= 4 else 8, 50_000) for i in range(30)]
    with db.cursor().copy("COPY check_results (time, monitor_id, region_id, up, error_kind, latency_us)"
                          " FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    r = await client.get(f"/api/v1/monitors/{blog['id']}/status", params={"limit": 10}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "down" and body["since_is_lower_bound"] is False
    assert body["since"].startswith((now - 3 * STEP).isoformat()[:19])
    assert [s["status"] for s in body["recent"]] == ["down"] * 4 + ["up"] * 6
    assert body["recent"][5]["latency_ms"] == 50.0

    db_monitor = seeded.monitors["db"]
    r = await client.get(f"/api/v1/monitors/{db_monitor['id']}/status", headers=auth)
    assert r.json()["status"] == "unknown" and r.json()["since"] is None  # no recent results


async def test_another_accounts_monitor_is_404_on_every_endpoint(client, auth, seeded):
    theirs = seeded.monitors["theirs"]["id"]
    for path in ("stats", "series", "status", "downtimes", "regions"):
        r = await client.get(f"/api/v1/monitors/{theirs}/{path}", headers=auth)
        assert r.status_code == 404, path
    r = await client.get("/api/v1/stats", params={"tag": "nope"}, headers=auth)
    assert r.status_code == 404 and "nope" in r.json()["detail"]


@pytest.mark.parametrize(("params", "field"), [
    ({"window": "2h"}, "window"),
    ({"window": "24h", "from": "2026-11-20T00:00:00Z"}, "window"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2026-11-20T00:00:00Z", "to": "tomorrow"}, "to"),
    ({"from": "2026-11-20T00:00:00Z", "to": "2026-11-19T00:00:00Z"}, "from"),
    ({"to": "2026-11-19T00:00:00Z"}, "from"),
    ({"from": "2026-06-01T00:00:00Z", "to": "2026-11-19T00:00:00Z"}, "to"),
    ({"window": "30d", "resolution": "raw"}, "resolution"),
    ({"resolution": "5m"}, "resolution"),
    ({"region": "mars"}, "region"),
])
async def test_bad_windows_are_400_naming_the_parameter(client, auth, seeded, params, field):
    shop = seeded.monitors["shop"]["id"]
    r = await client.get(f"/api/v1/monitors/{shop}/series", params=params, headers=auth)
    assert r.status_code == 400, r.text
    assert field in r.json()["detail"]


async def test_answers_are_the_same_once_hours_are_rolled_up(uncached, auth, settings, seeded):
    client = uncached
    from psycopg_pool import AsyncConnectionPool

    from aggregator.rollup import roll

    shop = seeded.monitors["shop"]
    before = {p: (await client.get(f"/api/v1/monitors/{shop['id']}/{p}", params=WINDOW, headers=auth)).json()
              for p in ("stats", "regions")}
    hourly = {**WINDOW, "resolution": "1h"}
    before["series"] = (await client.get(f"/api/v1/monitors/{shop['id']}/series", params=hourly, headers=auth)).json()
    async with AsyncConnectionPool(settings.database_url, min_size=1, max_size=1, open=False) as pool:
        assert await roll(pool) > 0
    after = {p: (await client.get(f"/api/v1/monitors/{shop['id']}/{p}", params=WINDOW, headers=auth)).json()
             for p in ("stats", "regions")}
    after["series"] = (await client.get(f"/api/v1/monitors/{shop['id']}/series", params=hourly, headers=auth)).json()
    assert after == before
    _assert_latency_close(after["stats"]["latency_ms"], seeded.of("shop"))


async def test_repeated_questions_share_an_answer_for_a_few_seconds_within_an_account(
        client, uncached, auth, db, seeded):
    shop = seeded.monitors["shop"]["id"]
    url = f"/api/v1/monitors/{shop}/stats"
    first = (await client.get(url, params=WINDOW, headers=auth)).json()
    eu, us = (db.execute("SELECT id FROM regions WHERE name = %s", (n,)).fetchone()[0] for n in ("eu", "us"))
    for region in (eu, us):  # a quorum-down slot where nothing was stored yet
        db.execute("INSERT INTO check_results (time, monitor_id, region_id, up, error_kind)"
                   " VALUES (%s, %s, %s, false, 8)", (BASE + 125 * STEP, shop, region))
    assert (await client.get(url, params=WINDOW, headers=auth)).json() == first  # cached
    fresh = (await uncached.get(url, params=WINDOW, headers=auth)).json()
    assert fresh["down_slots"] == first["down_slots"] + 1
    _, other_key = create_account_with_key(db, "third", "admin")
    r = await client.get(url, params=WINDOW, headers={"Authorization": f"Bearer {other_key}"})
    assert r.status_code == 404  # another account's identical question is never served the answer


async def test_daily_series_of_one_region_fills_days_without_results(client, auth, seeded):
    shop = seeded.monitors["shop"]
    params = {"from": (BASE - timedelta(days=1)).isoformat(), "to": (BASE + timedelta(days=2)).isoformat(),
              "resolution": "1d", "region": "us"}
    r = await client.get(f"/api/v1/monitors/{shop['id']}/series", params=params, headers=auth)
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    assert [p["slots"] for p in points] == [0, 170, 0]
    n = _counts(slots(seeded.of("shop", "us"), 1))
    assert (points[1]["up_slots"], points[1]["down_slots"], points[1]["missed_slots"]) == (n["up"], n["down"], n["missed"])
    assert points[1]["latency_p95_ms"] == pytest.approx(percentile(seeded.of("shop", "us"), 0.95), rel=0.01)
    assert points[0]["uptime_pct"] is None and points[2]["latency_p50_ms"] is None


@pytest.mark.parametrize(("path", "schema"), [("stats", "StatsRead"), ("regions", "RegionsRead"),
                                              ("series", "SeriesRead"), ("downtimes", "DowntimesRead")])
async def test_answers_carry_exactly_the_fields_the_openapi_document_names(client, auth, seeded, path, schema):
    document = (await client.get("/api/v1/schema/openapi.json")).json()
    declared = document["components"]["schemas"][schema]
    shop = seeded.monitors["shop"]
    r = await client.get(f"/api/v1/monitors/{shop['id']}/{path}", params=WINDOW, headers=auth)
    assert r.status_code == 200, r.text
    keys = set(r.json())
    assert set(declared["required"]) <= keys <= set(declared["properties"]), (keys, declared["required"])
