import subprocess
import sys
from datetime import UTC, datetime

import pytest

from evaluator.tick import evaluate_minute
from notify.delivery import deliver_due
from notify.outbox import enqueue_weekly_reports
from notify.report.data import build_report
from notify.report.schedule import due_week, last_finished_week, previous_week, week_bounds
from notify.service import queue_due_reports
from notify.transports.base import TransportContext
from tests.notify_fixtures import *  # noqa: F403 (fixtures)
from tests.notify_fixtures import make_channel
from tests.report_history import SLOTS_PER_WEEK, WEEK, seed_history


@pytest.mark.parametrize(("now", "weekday", "hour", "tz", "expected"), [
    ("2026-11-23T07:59:00+00:00", 1, 8, "UTC", None),          # Monday before the hour
    ("2026-11-23T08:00:00+00:00", 1, 8, "UTC", "2026-W47"),    # at the hour
    ("2026-11-29T23:59:00+00:00", 1, 8, "UTC", "2026-W47"),    # later that week still due
    ("2026-11-30T00:00:00+00:00", 1, 8, "UTC", None),          # a new week, before its hour
    ("2026-11-24T06:59:00+00:00", 2, 8, "Europe/Berlin", None),  # 07:59 in Berlin
    ("2026-11-24T07:00:00+00:00", 2, 8, "Europe/Berlin", "2026-W47"),
    ("2026-11-22T23:30:00+00:00", 1, 0, "Asia/Tokyo", "2026-W47"),  # already Monday in Tokyo
    ("2027-01-04T09:00:00+00:00", 1, 8, "UTC", "2026-W53"),    # 2026 has 53 ISO weeks
])
def test_the_due_week_follows_the_configured_day_hour_and_zone(now, weekday, hour, tz, expected):
    assert due_week(datetime.fromisoformat(now), weekday, hour, tz) == expected


def test_week_bounds_and_neighbours():
    start, end = week_bounds("2026-W47", "Europe/Berlin")
    assert start.isoformat() == "2026-11-16T00:00:00+01:00" and end.isoformat() == "2026-11-23T00:00:00+01:00"
    assert previous_week("2026-W01") == "2025-W52"
    assert last_finished_week(datetime(2026, 11, 25, tzinfo=UTC), "UTC") == "2026-W47"


@pytest.mark.timeout(60)
async def test_report_figures_from_a_scripted_history(db, account, npool):
    shop_id, api_id = seed_history(db, account[0])
    async with npool.connection() as conn:
        report = await build_report(conn, account[0], "acme", WEEK, "UTC")
    shop, api = {m.name: m for m in report.monitors}["shop"], {m.name: m for m in report.monitors}["api"]
    assert (shop.up_slots, shop.down_slots, shop.missed_slots) == (SLOTS_PER_WEEK - 4, 4, 0)
    assert shop.uptime == pytest.approx(100 * 1004 / 1008) and shop.slo_met is False
    assert shop.budget_left == pytest.approx(100 * (1 - 4 / (0.001 * 1008)))
    assert shop.incidents == 0  # incidents come from the incidents table; none here
    assert shop.downtime_s == 4 * 600
    assert 180 <= shop.p95_ms <= 199 and 190 <= shop.p99_ms <= 199
    assert 90 <= shop.prev_p95_ms <= 99  # W46 was twice as fast
    assert api.down_slots == 0 and api.uptime == 100.0 and api.incidents == 0 and api.slo_met is True
    assert len(shop.hourly) == 168 and sum(h["down_slots"] for h in shop.hourly) == 4


@pytest.mark.timeout(90)
async def test_weekly_report_email_is_received_once_with_both_parts_figures_and_charts(
        db, account, smtp_server, npool, transport_ctx):
    inbox, smtp_settings = smtp_server
    seed_history(db, account[0])
    make_channel(db, smtp_settings, account[0], "email", {"to": ["boss@example.test"]})
    ctx = TransportContext(settings=smtp_settings, http=transport_ctx.http, pool=npool)

    async with npool.connection() as conn:
        assert len(await enqueue_weekly_reports(conn, WEEK)) == 1
    attempts = await deliver_due(npool, ctx)
    assert [a.ok for a in attempts] == [True], attempts

    (rcpts, msg), = inbox.messages
    assert rcpts == ["boss@example.test"]
    assert msg["Subject"] == "Vigil weekly SLO report 2026-W47 for acme: 1 of 2 monitors below SLO"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    assert "uptime 99.603% vs SLO 99.9% (MISSED)" in text
    # Incidents are the alerting's (none was evaluated here); downtime is from the slots.
    assert "incidents 0, downtime 40m 00s" in text
    assert "p95 1" in text and "vs last week" in text
    related = msg.get_body(("related",))
    html = related.get_body(("html",)).get_content()
    assert "99.603%" in html and "100.000%" in html and "Error budget left" in html
    images = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    assert len(images) == 2
    for img in images:
        assert img.get_content().startswith(b"\x89PNG")
        assert f"cid:{img['Content-ID'][1:-1]}" in html

    # Re-running the same week sends nothing twice.
    async with npool.connection() as conn:
        assert await enqueue_weekly_reports(conn, WEEK) == []
    assert await queue_due_reports(npool, smtp_settings, datetime(2026, 11, 23, 9, tzinfo=UTC)) == []
    assert await deliver_due(npool, ctx) == []
    assert len(inbox.messages) == 1


async def test_the_weekly_cron_queues_only_when_due_and_only_for_accounts_with_monitors(
        db, account, nsettings, npool):
    seed_history(db, account[0])
    make_channel(db, nsettings, account[0], "email", {"to": ["a@example.test"]})
    other = db.execute("INSERT INTO accounts (name) VALUES ('empty') RETURNING id").fetchone()[0]
    make_channel(db, nsettings, other, "email", {"to": ["b@example.test"]})
    assert await queue_due_reports(npool, nsettings, datetime(2026, 11, 23, 7, tzinfo=UTC)) == []
    queued = await queue_due_reports(npool, nsettings, datetime(2026, 11, 23, 8, 1, tzinfo=UTC))
    assert len(queued) == 1
    key = db.execute("SELECT dedupe_key FROM notifications WHERE id = %s", (queued[0],)).fetchone()[0]
    assert key.startswith(f"report:{account[0]}:2026-W47:")


@pytest.mark.timeout(120)
def test_vigil_report_renders_a_preview_file(db, account, nsettings, tmp_path):
    from tests.services import service_env

    seed_history(db, account[0])
    out = tmp_path / "report.html"
    env = service_env(nsettings)
    r = subprocess.run([sys.executable, "-m", "vigil", "report", "--account", "acme", "--week", WEEK,
                        "--out", str(out)], env=env, capture_output=True, text=True, timeout=100)
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert html.count("data:image/png;base64,") == 2 and "shop" in html and "99.603%" in html
    bad = subprocess.run([sys.executable, "-m", "vigil", "report", "--account", "nobody", "--out", str(out)],
                         env=env, capture_output=True, text=True, timeout=100)
    assert bad.returncode == 2 and "no account named 'nobody'" in bad.stderr



@pytest.mark.timeout(60)
async def test_incident_count_and_downtime_come_from_the_evaluators_incidents(db, account, npool):
    shop_id, api_id = seed_history(db, account[0])
    rule = db.execute("INSERT INTO alert_rules (account_id, name, kind, monitor_id, params, recovery_slots)"
                      " VALUES (%s, 'shop down', 'down', %s, '{\"failures\": 1}', 1) RETURNING id",
                      (account[0], shop_id)).fetchone()[0]
    # The evaluator over the minutes after each slot around the two outages (slots every
    # 10 minutes): Wednesday 10:00-10:30 fires and resolves, Friday 15:00 fires and resolves.
    for at in ("2026-11-18T09:51", "2026-11-18T10:01", "2026-11-18T10:11", "2026-11-18T10:21",
               "2026-11-18T10:31", "2026-11-20T14:51", "2026-11-20T15:01", "2026-11-20T15:11"):
        outcomes = await evaluate_minute(npool, datetime.fromisoformat(at + "+00:00"))
        assert not [o.error for o in outcomes if o.error]
    fired = db.execute("SELECT fired_at, resolved_at FROM incidents ORDER BY id").fetchall()
    assert [(f.isoformat(), r.isoformat()) for f, r in fired] == [
        ("2026-11-18T10:01:00+00:00", "2026-11-18T10:31:00+00:00"),
        ("2026-11-20T15:01:00+00:00", "2026-11-20T15:11:00+00:00")]
    # Valid rows outside the week or never fired do not count: one that fired in W46 and
    # one of W47 still pending (never told anyone).
    db.execute("INSERT INTO incidents (account_id, rule_id, monitor_id, state, started_at, fired_at,"
               " resolved_at, last_evaluated_at) VALUES"
               " (%(a)s, %(r)s, %(m)s, 'resolved', '2026-11-10 10:00+00', '2026-11-10 10:00+00',"
               "  '2026-11-10 10:20+00', '2026-11-10 10:20+00'),"
               " (%(a)s, %(r)s, %(m)s, 'pending', '2026-11-21 12:00+00', NULL, NULL, '2026-11-21 12:00+00')",
               {"a": account[0], "r": rule, "m": shop_id})
    async with npool.connection() as conn:
        report = await build_report(conn, account[0], "acme", WEEK, "UTC")
    by_name = {m.name: m for m in report.monitors}
    assert {n: m.incidents for n, m in by_name.items()} == {"shop": 2, "api": 0}
    assert by_name["shop"].downtime_s == 4 * 600 and by_name["api"].downtime_s == 0
