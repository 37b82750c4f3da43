"""Maintenance windows in SLA figures: slots inside one are left out of uptime, the error
budget and the weekly report's figures, and counted as excluded_slots; exact answers from
a scripted history compared with a twin monitor that never had those slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from aggregator.rollup import roll
from notify.report.data import build_report
from notify.report.render import text
from tests.alerts_fixtures import make_monitor, minutes, write_results

# Two hours of one-minute slots from noon on Monday of last week (so within one ISO week),
# rolled up by the aggregator in the tests.
_WEEK_AGO = datetime.now(UTC) - timedelta(days=7)
T0 = (_WEEK_AGO - timedelta(days=_WEEK_AGO.weekday())).replace(hour=12, minute=0, second=0, microsecond=0)
SLOTS = 120
OUTAGE = range(30, 40)        # 2 of 3 regions down: down under quorum 2, inside maintenance
LATER_OUTAGE = range(80, 85)  # down, outside maintenance
WINDOW = {"from": T0.isoformat(), "to": (T0 + SLOTS * timedelta(minutes=1)).isoformat()}
SLO = 99.0


def _history(db: psycopg.Connection, mid: int, skip: range = range(0)) -> None:
    times = [t for i, t in enumerate(minutes(T0, SLOTS)) if i not in skip]
    down = {T0 + timedelta(minutes=i) for i in (*OUTAGE, *LATER_OUTAGE)}
    for region in ("eu", "us", "ap"):
        write_results(db, mid, region, [t for t in times if t not in down or region == "ap"], up=True)
        write_results(db, mid, region, [t for t in times if t in down and region != "ap"], up=False)


def _maintenance(db: psycopg.Connection, account_id: int, monitor_id: int | None, first: int, last: int) -> None:
    """A one-off window over slots first..last (half-open at the next slot)."""
    db.execute("INSERT INTO maintenance_windows (account_id, monitor_id, starts_at, ends_at) VALUES (%s, %s, %s, %s)",
               (account_id, monitor_id, T0 + timedelta(minutes=first), T0 + timedelta(minutes=last + 1)))


@pytest.fixture
async def twins(db, account, pool) -> tuple[int, int]:
    """(monitor with the outage inside a maintenance window, twin that never had those slots),
    both rolled up."""
    shop = make_monitor(db, account[0], "shop", quorum=2, slo_target=SLO)
    twin = make_monitor(db, account[0], "twin", quorum=2, slo_target=SLO)
    _history(db, shop)
    _history(db, twin, skip=OUTAGE)
    _maintenance(db, account[0], shop, OUTAGE[0], OUTAGE[-1])
    await roll(pool)
    assert db.execute("SELECT count(*) FROM rollup_1h WHERE monitor_id = %s", (shop,)).fetchone()[0] > 0
    return shop, twin


async def _stats(client, auth, mid: int, **params) -> dict:
    r = await client.get(f"/api/v1/monitors/{mid}/stats", params={**WINDOW, **params}, headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


SLA_KEYS = ("slots", "up_slots", "down_slots", "missed_slots", "uptime_pct", "error_budget_remaining_pct")


@pytest.mark.timeout(60)
async def test_uptime_with_maintenance_over_an_outage_equals_uptime_without_the_outage(client, auth, twins):
    shop, twin = twins
    got, without = await _stats(client, auth, shop), await _stats(client, auth, twin)
    assert {k: got[k] for k in SLA_KEYS} == {k: without[k] for k in SLA_KEYS}
    up, down = SLOTS - len(OUTAGE) - len(LATER_OUTAGE), len(LATER_OUTAGE)
    assert (got["slots"], got["up_slots"], got["down_slots"], got["excluded_slots"]) == \
        (SLOTS - len(OUTAGE), up, down, len(OUTAGE))
    assert without["excluded_slots"] == 0
    assert got["uptime_pct"] == pytest.approx(100 * up / (up + down))
    assert got["error_budget_remaining_pct"] == pytest.approx(100 * (1 - down / ((up + down) * (100 - SLO) / 100)))
    # one region alone: eu was down in the outage; its slots there are excluded as well
    eu = await _stats(client, auth, shop, region="eu")
    assert (eu["up_slots"], eu["down_slots"], eu["excluded_slots"]) == (up, down, len(OUTAGE))
    # the per-region breakdown the same way (ap was up all along)
    r = await client.get(f"/api/v1/monitors/{shop}/regions", params=WINDOW, headers=auth)
    assert r.status_code == 200, r.text
    assert {g["region"]: (g["up_slots"], g["down_slots"], g["excluded_slots"]) for g in r.json()["regions"]} == \
        {"eu": (up, down, len(OUTAGE)), "us": (up, down, len(OUTAGE)), "ap": (up + down, 0, len(OUTAGE))}


@pytest.mark.timeout(60)
async def test_overlapping_windows_exclude_each_slot_once_in_monitor_and_group_figures(db, account, client, auth, pool):
    shop = make_monitor(db, account[0], "shop", quorum=2, slo_target=SLO, tags=("web",))
    other = make_monitor(db, account[0], "other", quorum=2, slo_target=SLO, tags=("web",))
    _history(db, shop)
    _history(db, other)
    _maintenance(db, account[0], shop, 30, 39)   # the monitor's own window ...
    _maintenance(db, account[0], None, 35, 44)   # ... and an account-wide one overlapping it
    await roll(pool)
    got = await _stats(client, auth, shop)
    # slots 30..44 excluded once each: the 10 outage slots and 5 up ones
    assert (got["excluded_slots"], got["up_slots"], got["down_slots"]) == (15, SLOTS - 15 - 5, 5)
    r = await client.get("/api/v1/stats", params={**WINDOW, "tag": "web"}, headers=auth)
    assert r.status_code == 200, r.text
    group = r.json()
    per = {m["monitor_id"]: (m["excluded_slots"], m["up_slots"], m["down_slots"]) for m in group["monitors"]}
    # other: only the account-wide slots 35..44 (5 of the outage, 5 up)
    assert per == {shop: (15, 100, 5), other: (10, 100, 10)}
    assert (group["excluded_slots"], group["up_slots"], group["down_slots"]) == (25, 200, 15)
    assert group["uptime_pct"] == pytest.approx(100 * 200 / 215)

@pytest.mark.timeout(60)
async def test_the_weekly_report_leaves_maintenance_out_and_shows_the_excluded_slots(db, account, twins, settings):
    shop, twin = twins
    iso = T0.isocalendar()
    async with await psycopg.AsyncConnection.connect(settings.database_url, row_factory=dict_row) as conn:
        report = await build_report(conn, account[0], account[1], f"{iso.year}-W{iso.week:02d}", "UTC")
    by_id = {m.id: m for m in report.monitors}
    up, down = SLOTS - len(OUTAGE) - len(LATER_OUTAGE), len(LATER_OUTAGE)
    assert (by_id[shop].up_slots, by_id[shop].down_slots, by_id[shop].excluded_slots) == (up, down, len(OUTAGE))
    assert by_id[shop].uptime == pytest.approx(by_id[twin].uptime) == pytest.approx(100 * up / (up + down))
    assert by_id[shop].budget_left == pytest.approx(by_id[twin].budget_left)
    assert by_id[shop].downtime_s == down * 60
    body = text(report)
    assert "downtime 5m 00s, missed slots 0, excluded slots 10 (maintenance)" in body
    assert "excluded slots 0 (maintenance)" in body  # the twin


@pytest.fixture
async def uncached(settings):
    """A client of an API whose stats answers are never cached."""
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    async with AsyncTestClient(app=create_app(settings.model_copy(update={"stats_cache_seconds": 0}))) as c:
        yield c


@pytest.mark.timeout(60)
async def test_a_window_created_after_raw_rows_expired_does_not_change_old_figures(db, account, uncached, auth, pool):
    shop = make_monitor(db, account[0], "shop", quorum=2, slo_target=SLO)
    _history(db, shop)
    await roll(pool)
    before = await _stats(uncached, auth, shop)
    assert (before["down_slots"], before["excluded_slots"]) == (15, 0)
    db.execute("DELETE FROM check_results WHERE monitor_id = %s", (shop,))  # raw retention dropped them
    _maintenance(db, account[0], shop, OUTAGE[0], OUTAGE[-1])
    # the rollups still hold the outage; with no raw rows left, nothing can be re-judged
    after = await _stats(uncached, auth, shop)
    assert {k: after[k] for k in SLA_KEYS} == {k: before[k] for k in SLA_KEYS}
    assert after["excluded_slots"] == 0
