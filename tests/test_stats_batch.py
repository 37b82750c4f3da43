"""Answers read for several monitors at once: the same answers as one at a time, and the
answer cache refreshing a route's expired answers of one account with one such read."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from api.stats.schemas import DowntimesRead, RegionsRead, SeriesRead, StatsRead
from api.stats.service import StatsService
from api.stats.window import Window
from tests.stats_fixtures import BASE, SLOTS, STEP, seed
from vigil.accounts import create_account_with_key
from vigil.db import open_pool

WINDOW = {"from": BASE.isoformat(), "to": (BASE + SLOTS * STEP).isoformat()}


@asynccontextmanager
async def api_client(settings, cache_seconds: float):
    """A client of an API whose stats answers are cached this long (0: never)."""
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    async with AsyncTestClient(app=create_app(settings.model_copy(update={"stats_cache_seconds": cache_seconds}))) as c:
        yield c


@pytest.fixture
def seeded(db, account):
    other, _ = create_account_with_key(db, "other", "admin")
    out = seed(db, account[0], other)
    # Maintenance over part of the window for one monitor, so answers differ in what they leave out.
    db.execute("INSERT INTO maintenance_windows (account_id, monitor_id, starts_at, ends_at) VALUES (%s, %s, %s, %s)",
               (account[0], out.monitors["blog"]["id"], BASE + 5 * STEP, BASE + 20 * STEP))
    return out


async def test_answers_read_together_equal_the_answers_read_one_at_a_time(auth, settings, account, db, seeded):
    from aggregator.rollup import roll

    ids = {name: m["id"] for name, m in seeded.monitors.items()}
    async with AsyncConnectionPool(settings.database_url, min_size=1, max_size=1, open=False) as pool:
        assert await roll(pool) > 0  # rolled hours and raw rows both make up the window
    # A late row in a rolled hour of one monitor: that hour is read from raw rows for it alone.
    region = db.execute("SELECT id FROM regions WHERE name = 'eu'").fetchone()[0]
    db.execute("INSERT INTO check_results (time, monitor_id, region_id, up, error_kind, latency_us)"
               " VALUES (%s, %s, %s, true, 0, 4000)", (BASE + 90 * STEP + timedelta(seconds=1), ids["db"], region))
    assert db.execute("SELECT count(*) FROM rollup_dirty WHERE monitor_id = %s", (ids["db"],)).fetchone()[0] == 1
    window = Window(BASE + 10 * STEP, BASE + SLOTS * STEP)  # starts and ends inside an hour
    params = {"from": window.start.isoformat(), "to": window.end.isoformat()}
    pool = await open_pool(settings.database_url, min_size=1, max_size=1, dict_rows=True)
    async with pool:
        service = StatsService(pool, account[0])
        monitor_ids = list(ids.values())
        many = {("stats", None): (await service.stats_many(monitor_ids, window), StatsRead),
                ("regions", None): (await service.regions_many(monitor_ids, window), RegionsRead),
                ("series", "1h"): (await service.series_many(monitor_ids, window, "1h"), SeriesRead),
                ("series", "1d"): (await service.series_many(monitor_ids, window, "1d"), SeriesRead),
                ("downtimes", None): (await service.downtimes_many(monitor_ids, window), DowntimesRead)}
        assert await service.series_many(monitor_ids, window, "raw") == {}
    async with api_client(settings, 0) as uncached:
        for (path, resolution), (answers, schema) in many.items():
            # The other account's monitor is left out, not answered.
            assert set(answers) == {ids["shop"], ids["blog"], ids["db"]}, path
            for name in ("shop", "blog", "db"):
                query = params if resolution is None else {**params, "resolution": resolution}
                r = await uncached.get(f"/api/v1/monitors/{ids[name]}/{path}", params=query, headers=auth)
                assert r.status_code == 200, r.text
                assert json.loads(schema(**answers[ids[name]]).model_dump_json()) == r.json(), (path, name)
    stats = many[("stats", None)][0]
    assert stats[ids["blog"]]["excluded_slots"] == 10 and stats[ids["shop"]]["down_slots"] > 0
    assert stats[ids["db"]]["checks"] == SLOTS - 10 - 10 + 1  # the gap of 10 slots, and the late row
    downtimes = many[("downtimes", None)][0]
    assert [len(downtimes[m]["periods"]) for m in (ids["shop"], ids["blog"], ids["db"])] == [3, 1, 0]
    hourly = many[("series", "1h")][0]
    assert [len(hourly[m]["points"]) for m in (ids["shop"], ids["db"])] == [3, 3]
    # The second hour is rolled but dirty: its 60 slots and the late row, from raw rows.
    assert [p["checks"] for p in hourly[ids["db"]]["points"]] == [50, 60 + 1, 50]


async def test_a_routes_expired_answers_are_refreshed_by_one_read(settings, auth, db, seeded, monkeypatch):
    reads: list[list[int]] = []
    real = StatsService.stats_many

    async def counted(self, monitor_ids, w):
        reads.append(sorted(monitor_ids))
        return await real(self, monitor_ids, w)
    monkeypatch.setattr(StatsService, "stats_many", counted)
    ids = sorted(seeded.monitors[name]["id"] for name in ("shop", "blog", "db"))
    window = {"from": BASE.isoformat(), "to": (BASE + (SLOTS + 10) * STEP).isoformat()}
    async with api_client(settings, 0.4) as client:
        async def ask() -> dict[int, dict]:
            answers = {}
            for m in ids:
                r = await client.get(f"/api/v1/monitors/{m}/stats", params=window, headers=auth)
                assert r.status_code == 200, r.text
                answers[m] = r.json()
            return answers
        first = await ask()
        assert len(reads) == len(ids)  # first answers are computed one by one
        reads.clear()
        region = db.execute("SELECT id FROM regions WHERE name = 'eu'").fetchone()[0]
        for m in ids:  # a down result in one region for every monitor, after the first answers
            db.execute("INSERT INTO check_results (time, monitor_id, region_id, up, error_kind)"
                       " VALUES (%s, %s, %s, false, 8)", (BASE + (SLOTS + 5) * STEP, m, region))
        await asyncio.sleep(0.45)
        assert await ask() == first  # expired: served as they were while the refresh runs
        for _ in range(40):
            await asyncio.sleep(0.05)
            if reads:
                break
        await asyncio.sleep(0.1)
        assert reads == [ids]  # one read for the three expired answers
        again = await ask()
    # The refreshed answers hold the new slot: down for blog and db, missed for shop (quorum 2).
    assert {m: again[m]["slots"] - first[m]["slots"] for m in ids} == dict.fromkeys(ids, 1)
    shop, blog, db_monitor = (seeded.monitors[name]["id"] for name in ("shop", "blog", "db"))
    assert again[shop]["missed_slots"] == first[shop]["missed_slots"] + 1
    assert again[blog]["down_slots"] == first[blog]["down_slots"] + 1
    assert again[db_monitor]["down_slots"] == first[db_monitor]["down_slots"] + 1
