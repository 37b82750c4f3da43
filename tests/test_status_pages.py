"""Status pages through the API and their public side: managing pages and incidents with
key scopes, the page's figures from real rollups, its JSON and Atom feed, link pages,
custom domains, badges, the public cache, rate limits, and nothing private or foreign shown."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.status_fixtures import DAYS, roll_up, write_history
from vigil.accounts import create_account_with_key
from vigil.settings import Settings

P = "/api/v1/status-pages"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
async def page(client, db, account, auth, settings):
    """A public page 'acme' with two sections over three monitors of 90 days, one down now."""
    history = write_history(db, account[0], ["web-internal-7", "api-internal-7", "db-internal-7"],
                            down_now="db-internal-7")
    await roll_up(settings.database_url)
    ids = history.ids
    body = {"slug": "acme", "title": "Acme services", "description": "What our users rely on.",
            "sections": [{"name": "Website", "monitors": [{"monitor_id": ids["web-internal-7"], "display_name": "Website"}]},
                         {"name": "Backend", "monitors": [
                             {"monitor_id": ids["api-internal-7"], "display_name": "Public API", "show_target": True},
                             {"monitor_id": ids["db-internal-7"], "display_name": "Database"}]}]}
    r = await client.post(P, json=body, headers=auth)
    assert r.status_code == 201, r.text
    return {"history": history, "page": r.json()}


async def test_a_page_lists_its_sections_with_public_names_and_badge_keys(client, page, auth):
    got = (await client.get(f"{P}/{page['page']['id']}", headers=auth)).json()
    assert got["url"] == "/status/acme" and got["link"] is None
    assert [[(m["display_name"], m["key"]) for m in s["monitors"]] for s in got["sections"]] == [
        [("Website", "website")], [("Public API", "public-api"), ("Database", "database")]]
    assert [p["slug"] for p in (await client.get(P, headers=auth)).json()] == ["acme"]


async def test_the_page_shows_statuses_90_bars_uptimes_and_hides_what_is_private(client, page, auth):
    r = await client.get("/status/acme")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert re.findall(r'data-key="(\w[\w-]*)" data-status="(\w+)"', html) == [
        ("website", "up"), ("public-api", "up"), ("database", "down")]
    assert 'data-status="partial_outage"' in html
    for key in ("website", "public-api", "database"):
        article = html.split(f'data-key="{key}"')[1].split("</article>")[0]
        bars = article.split('<ol class="bars"')[1].split("</ol>")[0]
        assert len(re.findall(r'<li(?: class=(?:degraded|down|none))?><span>\d{4}-\d\d-\d\d: ', bars)) == DAYS
    outage = page["history"].outage_day
    assert re.search(rf'<li class=down><span>{outage}: 9\d\.\d\d % up, 1 h down</span>', html), "the outage day"
    # Private: the monitors' own names, targets with credentials, regions.
    shown_target = "https://****@api-internal-7.internal.example/health"  # shown by choice, masked
    assert shown_target in html
    assert "internal-7" not in html.replace(shown_target, "")
    assert "hunter2" not in html and "user:" not in html
    assert ">eu<" not in html
    policy = r.headers["content-security-policy"]
    assert re.fullmatch(r"default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src 'self'; "
                        r"frame-ancestors 'none'; base-uri 'none'; form-action 'none'", policy)
    assert r.headers["x-frame-options"] == "DENY" and "public, max-age=" in r.headers["cache-control"]
    packed = await client.get("/status/acme", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and packed.text == html
    assert (await client.get("/status/acme", headers={"Accept-Encoding": "identity"})).headers.get(
        "content-encoding") is None
    # The API's own routes keep the policy that allows nothing.
    api = await client.get(P, headers=auth)
    assert api.headers["content-security-policy"].startswith("default-src 'none'; frame-ancestors")


async def test_json_has_the_same_figures_and_the_uptimes_agree_with_the_bars(client, page):
    data = (await client.get("/status/acme.json")).json()
    assert data["status"] == "partial_outage"
    web = data["sections"][0]["monitors"][0]
    assert set(web) == {"name", "key", "status", "last_checked", "target", "badges", "uptime_pct", "days",
                        "latency"}
    assert web["name"] == "Website" and web["target"] is None and len(web["days"]) == DAYS
    outage = next(d for d in web["days"] if d["date"] == page["history"].outage_day)
    assert outage["down_s"] == 3600
    week = web["days"][-7:]
    assert web["uptime_pct"]["7d"] == pytest.approx(
        100 * sum(d["slots"] for d in week if d["slots"]) / sum(d["slots"] for d in week) - 100 * 6 / sum(
            d["slots"] for d in week), abs=1e-3)
    assert web["uptime_pct"]["24h"] == 100.0 and web["uptime_pct"]["90d"] < 100
    assert len(web["latency"]) >= 23 and all(p["p95_ms"] >= p["p50_ms"] > 0 for p in web["latency"])
    api = data["sections"][1]["monitors"][0]
    assert api["target"] == "https://****@api-internal-7.internal.example/health"
    api["target"] = None
    assert "monitor_id" not in str(data) and "internal-7" not in str(data), data


async def test_incidents_with_updates_appear_on_the_page_and_in_the_feed(client, page, auth):
    ids = page["history"].ids
    r = await client.post(f"{P}/incidents", headers=auth, json={
        "title": "Database <slow>", "impact": "major", "monitor_ids": [ids["db-internal-7"]],
        "message": "Queries time out; we are looking into it."})
    assert r.status_code == 201, r.text
    incident = r.json()
    r = await client.post(f"{P}/incidents/{incident['id']}/updates", headers=auth,
                          json={"status": "identified", "message": "A disk filled up & is being replaced."})
    assert r.json()["status"] == "identified" and len(r.json()["updates"]) == 2
    html = (await client.get("/status/acme")).text
    assert "Database &lt;slow&gt;" in html and "<slow>" not in html  # escaped
    assert "A disk filled up &amp; is being replaced." in html and "Queries time out" in html
    assert "Current incidents" in html
    feed = ET.fromstring((await client.get("/status/acme/feed.atom")).content)
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Database <slow>: Identified",
                                                             "Database <slow>: Investigating"]
    assert (await client.get("/status/acme.atom")).content == (await client.get("/status/acme/feed.atom")).content
    r = await client.post(f"{P}/incidents/{incident['id']}/updates", headers=auth,
                          json={"status": "resolved", "message": "Fixed."})
    assert r.json()["resolved_at"] is not None
    assert "Current incidents" not in (await client.get("/status/acme")).text


async def test_an_incident_of_a_monitor_not_on_the_page_is_not_shown(client, page, db, account, auth):
    other = write_history(db, account[0], ["elsewhere"], days=1).ids["elsewhere"]
    await client.post(f"{P}/incidents", headers=auth, json={
        "title": "Elsewhere broke", "monitor_ids": [other], "message": "Not on this page."})
    assert "Elsewhere broke" not in (await client.get("/status/acme")).text


async def test_monitors_and_slugs_of_other_accounts_are_refused_and_never_shown(client, page, db, auth):
    other_account, other_key = create_account_with_key(db, "globex", "admin")
    foreign = write_history(db, other_account, ["globex-secret"], days=1).ids["globex-secret"]
    r = await client.post(P, headers=auth, json={"slug": "mine", "title": "x", "sections": [
        {"name": "s", "monitors": [{"monitor_id": foreign, "display_name": "Stolen"}]}]})
    assert r.status_code == 400 and r.json()["detail"] == f"invalid value for sections: no such monitor: {foreign}"
    r = await client.post(f"{P}/incidents", headers=auth, json={"title": "t", "monitor_ids": [foreign], "message": "m"})
    assert r.status_code == 400 and "monitor_ids" in r.json()["detail"]
    # The slug is taken, whoever asks; another account cannot read or change the page.
    globex = {"Authorization": f"Bearer {other_key}"}
    assert (await client.post(P, headers=globex, json={"slug": "acme", "title": "x"})).status_code == 409
    assert (await client.get(f"{P}/{page['page']['id']}", headers=globex)).status_code == 404
    assert (await client.patch(f"{P}/{page['page']['id']}", headers=globex, json={"title": "x"})).status_code == 404
    # A foreign monitor slipped into the page's rows by hand is still not shown.
    section = db.execute("SELECT id FROM status_page_sections ORDER BY id LIMIT 1").fetchone()[0]
    db.execute("INSERT INTO status_page_monitors (section_id, page_id, monitor_id, position, display_name, key)"
               " VALUES (%s, %s, %s, 9, 'Injected', 'injected')", (section, page["page"]["id"], foreign))
    await client.patch(f"{P}/{page['page']['id']}", headers=auth, json={"title": "Acme services"})  # drop the cache
    html = (await client.get("/status/acme")).text
    assert "Injected" not in html and 'data-key="injected"' not in html


@pytest.mark.parametrize(("body", "field"), [
    ({"slug": "Bad Slug", "title": "x"}, "slug"),
    ({"slug": "ok", "title": ""}, "title"),
    ({"slug": "ok", "title": "x", "visibility": "secret"}, "visibility"),
    ({"slug": "ok", "title": "x", "custom_domain": "not a host"}, "custom_domain"),
    ({"slug": "ok", "title": "x\u0000"}, "title"),
    ({"slug": "ok", "title": "x", "sections": [{"name": "s", "monitors": [
        {"monitor_id": 1, "display_name": "A"}, {"monitor_id": 2, "display_name": "a"}]}]}, "sections"),
])
async def test_bad_page_input_is_a_400_naming_the_field(client, auth, body, field):
    r = await client.post(P, headers=auth, json=body)
    assert r.status_code == 400, r.text
    assert field in r.json()["detail"]


async def test_a_read_key_lists_pages_but_cannot_change_them(client, page, db):
    _, read_key = create_account_with_key(db, "acme", "read")
    h = {"Authorization": f"Bearer {read_key}"}
    assert (await client.get(P, headers=h)).status_code == 200
    r = await client.post(P, headers=h, json={"slug": "x", "title": "x"})
    assert r.status_code == 403 and "'write' scope" in r.json()["detail"]
    assert (await client.post(f"{P}/incidents", headers=h, json={"title": "t", "message": "m"})).status_code == 403


async def test_a_link_page_is_served_only_at_its_link_and_rotating_ends_the_old_one(client, page, auth):
    page_id = page["page"]["id"]
    r = await client.patch(f"{P}/{page_id}", headers=auth, json={"visibility": "link"})
    link = r.json()["link"]
    assert r.status_code == 200 and re.fullmatch(r"spl_[A-Za-z0-9_-]{22}", link) and r.json()["url"] == f"/status/{link}"
    assert (await client.get("/status/acme")).status_code == 404
    shown = await client.get(f"/status/{link}")
    assert shown.status_code == 200 and "Acme services" in shown.text
    assert shown.headers["x-robots-tag"] == "noindex" and shown.headers["cache-control"].startswith("private")
    assert (await client.get(f"/status/{link}.json")).json()["title"] == "Acme services"
    assert (await client.get(f"{P}/{page_id}", headers=auth)).json()["link"] is None  # shown once
    new = (await client.post(f"{P}/{page_id}/link", headers=auth)).json()["link"]
    assert new != link
    assert (await client.get(f"/status/{link}")).status_code == 404
    assert (await client.get(f"/status/{new}")).status_code == 200


async def test_a_custom_domain_serves_its_page_at_the_root(client, page, auth):
    r = await client.patch(f"{P}/{page['page']['id']}", headers=auth, json={"custom_domain": "Status.Acme.example."})
    assert r.json()["custom_domain"] == "status.acme.example"
    shown = await client.get("/", headers={"Host": "status.acme.example:443"})
    assert shown.status_code == 200 and "Acme services" in shown.text and 'href="/status/acme.json"' in shown.text
    assert (await client.get("/", headers={"Host": "other.example"})).status_code == 404


async def test_badges_are_opt_in_and_answer_status_uptime_and_p95(client, page, auth):
    db_id = page["history"].ids["db-internal-7"]
    assert (await client.get("/badge/acme/database/status.svg")).status_code == 404
    r = await client.post(f"/api/v1/monitors/{db_id}/badge", headers=auth)
    assert r.status_code == 201
    badge = r.json()
    svg = await client.get(badge["status_url"])
    assert svg.headers["content-type"] == "image/svg+xml"
    assert ET.fromstring(svg.content).attrib["aria-label"] == "status: down"
    assert ET.fromstring((await client.get("/badge/acme/database/status.svg")).content).attrib[
        "aria-label"] == "status: down"
    uptime = ET.fromstring((await client.get(badge["uptime_url"])).content).attrib["aria-label"]
    assert re.fullmatch(r"uptime 30d: 99\.\d\d %", uptime)
    p95 = ET.fromstring((await client.get(badge["p95_url"])).content).attrib["aria-label"]
    assert re.fullmatch(r"p95 24h: \d+ ms", p95)
    bad = await client.get(badge["uptime_url"].replace("30d", "5y"))
    assert bad.status_code == 400 and "window" in bad.json()["detail"]
    assert (await client.get(badge["status_url"].replace("status.svg", "nope.svg"))).status_code == 404
    assert (await client.delete(f"/api/v1/monitors/{db_id}/badge", headers=auth)).status_code == 204
    assert (await client.get(badge["status_url"])).status_code == 404
    assert (await client.post("/api/v1/monitors/999999/badge", headers=auth)).status_code == 404


async def test_answers_come_from_the_cache_until_a_change_through_the_api(client, page, db, auth):
    first = (await client.get("/status/acme.json")).json()
    db.execute("UPDATE status_pages SET title = 'Changed behind the API'")
    assert (await client.get("/status/acme.json")).json() == first
    await client.patch(f"{P}/{page['page']['id']}", headers=auth, json={"description": "new"})
    assert (await client.get("/status/acme.json")).json()["title"] == "Changed behind the API"


async def test_unknown_pages_answer_404_without_touching_the_database_for_impossible_names(client, settings):
    for path in ("/status/nope", "/status/nope.json", "/status/NOT_A_SLUG", "/status/spl_short",
                 "/badge/bdg_unknown-token-123/status.svg", "/badge/x/y/status.svg"):
        assert (await client.get(path)).status_code == 404, path


async def test_public_routes_are_rate_limited_per_client_address(settings, db, account):
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    limited = Settings(**{**settings.model_dump(), "rate_limit_address_per_minute": 5})
    async with AsyncTestClient(app=create_app(limited)) as c:
        statuses = [(await c.get("/status/nope")).status_code for _ in range(7)]
    assert statuses == [404] * 5 + [429] * 2


async def test_the_demo_account_gets_its_status_page_once_and_vigil_up_prints_it(client, db, capsys):
    from vigil.commands.demo import DEMO_MONITORS
    from vigil.commands.demo_status import ensure_status_page
    from vigil.commands.up import _print_tries

    account_id, _ = create_account_with_key(db, "demo", "admin")
    for name, path, interval in DEMO_MONITORS:
        db.execute("INSERT INTO monitors (account_id, name, kind, target, interval_s, timeout_ms)"
                   " VALUES (%s, %s, 'http', %s, %s, 5000)", (account_id, name, "http://127.0.0.1:8099" + path, interval))
    assert ensure_status_page(db, account_id) == "/status/demo"
    assert ensure_status_page(db, account_id) == "/status/demo"
    assert db.execute("SELECT count(*) FROM status_pages").fetchone()[0] == 1
    data = (await client.get("/status/demo.json")).json()
    assert [(s["name"], [m["name"] for m in s["monitors"]]) for s in data["sections"]] == [
        ("Website", ["Homepage", "Sign-in"]), ("API", ["Public API", "Search"]),
        ("Shop", ["Shopping cart", "Legacy orders"])]
    assert [u["status"] for u in data["incidents"][0]["updates"]] == ["identified", "investigating"]
    assert (await client.get("/badge/demo/homepage/status.svg")).status_code == 200
    _print_tries("vgl_x_y", 8080, 8099)
    assert "status page: http://127.0.0.1:8080/status/demo " in capsys.readouterr().out


async def test_a_cached_page_is_answered_before_the_middleware_with_the_routes_own_bytes_and_headers(
        client, page, monkeypatch):
    from api.stats.cache import AnswerCache
    from api.status_pages.cache import forget_answers

    asked = []
    get = AnswerCache.get

    async def counted(self, key, compute):
        asked.append(key)
        return await get(self, key, compute)
    monkeypatch.setattr(AnswerCache, "get", counted)
    for path, encoding in (("/status/acme", "gzip"), ("/status/acme", "identity"), ("/status/acme.json", "gzip"),
                           ("/status/acme/feed.atom", "identity")):
        h = {"Accept-Encoding": encoding}
        forget_answers(client.app)
        routed = await client.get(path, headers=h)  # computes and caches the answer
        shortcut = await client.get(path, headers=h)
        assert len(asked) == 1, (path, asked)  # the second never reached the route's cache lookup
        asked.clear()
        assert shortcut.status_code == routed.status_code == 200 and shortcut.content == routed.content
        same = {k: v for k, v in routed.headers.items() if k not in ("x-request-id", "ratelimit-remaining")}
        assert {k: v for k, v in shortcut.headers.items() if k in same} == same, path
        assert set(shortcut.headers) == set(routed.headers), path
        assert int(shortcut.headers["ratelimit-remaining"]) == int(routed.headers["ratelimit-remaining"]) - 1
    assert shortcut.headers["content-type"] == "application/atom+xml; charset=utf-8"
    # Both are timed under the route's own label.
    from prometheus_client import REGISTRY

    def timed() -> float:
        return REGISTRY.get_sample_value("vigil_api_request_duration_seconds_count", {
            "method": "GET", "route": "/status/{name}", "status": "200"}) or 0.0
    before = timed()
    await client.get("/status/acme.json")
    assert timed() == before + 1


async def test_cached_answers_are_rate_limited_too_and_refused_by_the_middleware(settings, db, account):
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    write_history(db, account[0], ["web"], days=2)
    mid = db.execute("SELECT id FROM monitors").fetchone()[0]
    limited = Settings(**{**settings.model_dump(), "rate_limit_address_per_minute": 4})
    async with AsyncTestClient(app=create_app(limited)) as c:
        r = await c.post(P, headers={"Authorization": f"Bearer {account[1]}"}, json={
            "slug": "acme", "title": "Acme", "sections": [{"name": "Web", "monitors": [
                {"monitor_id": mid, "display_name": "Website"}]}]})
        assert r.status_code == 201, r.text
        answers = [await c.get("/status/acme") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 4 + [429] * 2
    assert [a.headers["ratelimit-remaining"] for a in answers[:4]] == ["3", "2", "1", "0"]
    assert "requests from one address" in answers[4].json()["detail"] and answers[4].headers["retry-after"]
