"""Every query of the provisioned Grafana dashboard, interpolated as Grafana's Postgres
datasource does (tests/grafana_macros.py), runs against the test database with seeded
results and their rollups and returns sensible rows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from aggregator.rollup import roll
from tests.grafana_macros import MACRO, expand_macros, interpolate, replace_variables
from tests.stats_fixtures import BASE, SLOTS, STEP, percentile, seed, slots
from vigil.accounts import create_account_with_key

DASHBOARD = Path(__file__).resolve().parent.parent / "grafana" / "dashboards" / "vigil.json"
START, END = BASE, BASE + SLOTS * STEP


def _panels() -> list[dict]:
    return json.loads(DASHBOARD.read_text())["panels"]


@pytest.fixture
async def rolled(db, account, settings):
    other, _ = create_account_with_key(db, "other", "admin")
    seeded = seed(db, account[0], other)
    async with AsyncConnectionPool(settings.database_url, min_size=1, max_size=1, open=False) as pool:
        assert await roll(pool) > 0
    return seeded


def _run(db: psycopg.Connection, panel: dict, variables: dict[str, str],
         end=END) -> tuple[list[str], list[tuple]]:
    sql = interpolate(panel["targets"][0]["rawSql"], START, end, variables, panel.get("interval"))
    assert "$" not in sql, sql
    cur = db.execute(sql)
    return [c.name for c in cur.description], cur.fetchall()


def test_macros_expand_as_grafana_does():
    start, end = BASE, BASE + timedelta(hours=6)
    sql = replace_variables("WHERE m = $monitor AND r IN ([[region]]) AND ${monitor} > 0 AND $__interval_ms > 0 "
                            "AND $__timeGroup(t, $__interval)", {"monitor": "7", "region": "'eu'"},
                            timedelta(minutes=1))
    assert sql == "WHERE m = 7 AND r IN ('eu') AND 7 > 0 AND 60000 > 0 AND $__timeGroup(t, 1m)"
    assert expand_macros("SELECT $__timeGroup(t, 1h), x WHERE $__timeFilter(t)", start, end) == (
        "SELECT time_bucket('3600.000s',t) AS \"time\", x WHERE t BETWEEN "
        "'2026-11-20T00:00:00Z' AND '2026-11-20T06:00:00Z'")
    assert expand_macros("GROUP BY $__timeGroup(t, '5m')", start, end) == "GROUP BY time_bucket('300.000s',t)"
    assert expand_macros("$__timeFrom()::timestamptz", start, end) == "'2026-11-20T00:00:00Z'::timestamptz"
    # 6 h over 500 points is 43 s, rounded to 30 s; a panel minimum of 1h wins.
    assert "'30.000s'" in interpolate("$__timeGroup(t, $__interval)", start, end, {})
    assert "'3600.000s'" in interpolate("$__timeGroup(t, $__interval)", start, end, {}, "1h")


def test_dashboard_has_the_required_panels_on_the_vigil_datasource():
    panels = _panels()
    titles = {p["title"] for p in panels}
    assert {"Uptime", "Latency p50 / p95 / p99", "p95 latency per region", "Status timeline"} <= titles
    for p in panels:
        assert p["datasource"]["uid"] == "vigil-timescaledb"
        assert MACRO.search(p["targets"][0]["rawSql"]), f"{p['title']} ignores the dashboard's time range"


async def test_every_panel_query_returns_sensible_rows(db, rolled):
    variable = json.loads(DASHBOARD.read_text())["templating"]["list"][0]
    options = db.execute(variable["query"]).fetchall()
    assert len(options) == 4
    shop = rolled.monitors["shop"]["id"]
    assert any(o[0] == shop for o in options)
    for panel in _panels():
        columns, rows = _run(db, panel, {"monitor": str(shop)})
        assert rows, f"{panel['title']} returned no rows"
        if panel["targets"][0]["format"] == "time_series":
            assert columns[0] == "time", panel["title"]
            assert [r[0] for r in rows] == sorted(r[0] for r in rows), f"{panel['title']} is not sorted by time"
        values = [v for r in rows for v, c in zip(r, columns, strict=True) if c not in ("time", "metric", "status")]
        unit = panel["fieldConfig"]["defaults"].get("unit")
        if unit == "ms":
            assert all(v is None or 1 < v < 60_000 for v in values), panel["title"]
        elif panel["title"] in ("Uptime", "Uptime per bucket"):
            assert all(v is None or 0 <= v <= 100 for v in values), panel["title"]


async def test_panels_agree_with_the_raw_rows(db, rolled):
    shop = rolled.monitors["shop"]["id"]
    by_title = {p["title"]: p for p in _panels()}
    statuses = slots(rolled.of("shop"), 2)
    up, down = list(statuses.values()).count("up"), list(statuses.values()).count("down")

    _, rows = _run(db, by_title["Uptime"], {"monitor": str(shop)})
    assert float(rows[0][0]) == pytest.approx(100 * up / (up + down))

    _, rows = _run(db, by_title["Latency p50 / p95 / p99"], {"monitor": str(shop)})
    assert [r[0] for r in rows] == [BASE + timedelta(hours=h) for h in range(3)]
    for h, (_, p50, _, p99) in enumerate(rows):
        hour = [r for r in rolled.of("shop") if BASE + timedelta(hours=h) <= r.time < BASE + timedelta(hours=h + 1)]
        assert p50 == pytest.approx(percentile(hour, 0.5), rel=0.01)
        assert p99 == pytest.approx(percentile(hour, 0.99), rel=0.01)

    _, rows = _run(db, by_title["p95 latency per region"], {"monitor": str(shop)})
    assert {r[1] for r in rows} == {"eu", "us", "ap"} and len(rows) == 9

    _, rows = _run(db, by_title["Uptime per bucket"], {"monitor": str(shop)}, end=END + timedelta(hours=2))
    assert [r[0] for r in rows] == [BASE + timedelta(hours=h) for h in range(5)]
    assert float(rows[0][1]) == pytest.approx(100 * 55 / 60)  # slots 30-34 down; 50 is up
    assert rows[3][1] is None and rows[4][1] is None    # hours without results are filled, empty

    _, rows = _run(db, by_title["Status timeline"], {"monitor": str(shop)})
    assert {r[0]: r[1] for r in rows} == statuses  # 1-minute panel interval: one row per slot
