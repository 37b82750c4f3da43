"""Regions are shared by every account: creating and updating monitors must not use up the
smallint region ids, tenants may not fill the table, and a region name another account uses
must not be told apart from one nobody uses."""

from __future__ import annotations

from vigil.accounts import create_account_with_key
from vigil.constants import MAX_REGIONS

M = "/api/v1/monitors"
REGIONS = [f"r{i}" for i in range(16)]


def _sequence(db) -> int:
    return db.execute("SELECT coalesce(last_value, 0) FROM pg_sequences WHERE sequencename = 'regions_id_seq'"
                      ).fetchone()[0]


async def test_updating_a_monitor_uses_no_region_ids(client, auth, db):
    r = await client.post(M, json={"name": "m", "target": "https://example.com/", "regions": REGIONS},
                          headers=auth)
    assert r.status_code == 201, r.text
    after_create = _sequence(db)
    for i in range(5):
        r = await client.patch(f"{M}/{r.json()['id']}", json={"name": f"m{i}"}, headers=auth)
        assert r.status_code == 200, r.text
    r2 = await client.post(M, json={"name": "n", "target": "https://example.com/", "regions": REGIONS},
                           headers=auth)
    assert r2.status_code == 201, r2.text
    assert _sequence(db) == after_create
    assert db.execute("SELECT count(*) FROM regions WHERE name LIKE 'r%%'").fetchone()[0] == 16


async def test_tenants_cannot_create_regions_beyond_the_cap(client, auth, db):
    db.execute("INSERT INTO regions (name) SELECT 'x' || g FROM generate_series(1, %s) g "
               "WHERE (SELECT count(*) FROM regions) < %s", (MAX_REGIONS, MAX_REGIONS))
    db.execute("DELETE FROM regions WHERE id IN (SELECT max(id) FROM regions WHERE name LIKE 'x%%')")
    assert db.execute("SELECT count(*) FROM regions").fetchone()[0] == MAX_REGIONS - 1
    r = await client.post(M, json={"name": "m", "target": "https://example.com/", "regions": ["new-a", "new-b"]},
                          headers=auth)
    assert r.status_code == 400, r.text
    assert "regions" in r.json()["detail"] and str(MAX_REGIONS) in r.json()["detail"]
    r = await client.post(M, json={"name": "m", "target": "https://example.com/", "regions": ["new-a", "x1"]},
                          headers=auth)
    assert r.status_code == 201, r.text  # one more fits, and existing names are always fine
    assert db.execute("SELECT count(*) FROM regions").fetchone()[0] == MAX_REGIONS


async def test_region_query_answers_the_same_for_a_name_used_elsewhere_and_one_used_nowhere(client, auth, db):
    _, other = create_account_with_key(db, "other", "admin")
    r = await client.post(M, json={"name": "theirs", "target": "https://example.com/", "regions": ["secret-dc"]},
                          headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 201, r.text
    mine = (await client.post(M, json={"name": "mine", "target": "https://example.com/", "regions": ["local"]},
                              headers=auth)).json()["id"]
    for path in ("stats", "series", "status", "downtimes"):
        answers = []
        for name in ("secret-dc", "nowhere-dc"):
            r = await client.get(f"{M}/{mine}/{path}", params={"region": name}, headers=auth)
            answers.append((r.status_code, r.text.replace(name, "NAME")))
        assert answers[0] == answers[1], path
        assert answers[0][0] == 400
    r = await client.get(f"{M}/{mine}/stats", params={"region": "local"}, headers=auth)
    assert r.status_code == 200, r.text
