"""The per-slot quorum rule is defined once (vigil_slot_status, sql/functions/slots.sql): the
same scripted slots, fed through every reader of slots, are judged alike. That includes the
raw statistics behind the rollups and the windows (vigil_raw_stats, vigil_raw_rows_stats,
sql/functions/windows.sql): the aggregator's rolled-up hour and the window's raw piece."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from notify.report.data import build_report
from tests.alerts_fixtures import make_monitor, make_rule, write_results
from vigil.constants import ErrorKind
from vigil.queries import sql

REGIONS = ("eu", "us", "ap")
# (quorum, outcome per region in REGIONS order, expected status). None = the region sent
# nothing for the slot (absent; with fewer entries than REGIONS the monitor has fewer regions).
CASES = [
    (1, ("up",), "up"),
    (1, ("down",), "down"),
    (1, ("missed",), "missed"),
    (1, ("up", "up", "up"), "up"),
    (1, ("down", "up", "up"), "down"),
    (1, ("missed", "missed", "up"), "up"),
    (1, ("missed", "down", "missed"), "down"),
    (1, ("missed", "missed", "missed"), "missed"),
    (1, ("up", "up", None), "up"),
    (2, ("down", "down", "up"), "down"),
    (2, ("down", "up", "up"), "up"),
    (2, ("down", "missed", "up"), "up"),
    (2, ("down", "missed", "missed"), "missed"),
    (2, ("up", "missed", "missed"), "missed"),
    (2, ("up", "up", None), "up"),
    (2, ("down", None, None), "missed"),
    (2, ("down", "down", None), "down"),
    (2, ("up", "down"), "up"),
    (3, ("down", "down", "down"), "down"),
    (3, ("down", "down", "up"), "up"),
    (3, ("down", "down", "missed"), "missed"),
    (3, ("up", "up", None), "missed"),
    (3, ("up", "up", "up"), "up"),
]


@dataclass
class Scripted:
    """One monitor per case (case index -> monitor id), each with one slot at `slot`: a
    recent time, so the status endpoint sees a live monitor; [start, end) is around it."""
    monitors: dict[int, int]
    slot: datetime

    @property
    def start(self) -> datetime:
        return self.slot - timedelta(minutes=5)

    @property
    def end(self) -> datetime:
        return self.slot + timedelta(minutes=5)


def _script(db: psycopg.Connection, account_id: int, slot: datetime, case: int, quorum: int, outcomes: tuple) -> int:
    regions = REGIONS[:len(outcomes)]
    mid = make_monitor(db, account_id, f"case{case}", regions=regions, quorum=quorum)
    for region, outcome in zip(regions, outcomes, strict=True):
        if outcome is not None:
            write_results(db, mid, region, [slot], up=outcome == "up",
                          error_kind=ErrorKind.missed if outcome == "missed" else None)
    return mid


@pytest.fixture
def scripted(db, account) -> Scripted:
    slot = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    return Scripted({i: _script(db, account[0], slot, i, q, outcomes) for i, (q, outcomes, _) in enumerate(CASES)},
                    slot)


def _by_monitor(db: psycopg.Connection, query: str, params: tuple) -> dict[int, str]:
    return {r[0]: r[1] for r in db.execute(query, params)}


def _counted(rows: dict[int, tuple[int, int, int]]) -> dict[int, str]:
    """(up, down, missed) slot counts of a one-slot window -> that slot's status."""
    return {mid: {(1, 0, 0): "up", (0, 1, 0): "down", (0, 0, 1): "missed"}[c] for mid, c in rows.items()}


def rolled_up_judgements(db: psycopg.Connection, at: Scripted, ids: list[int]) -> dict[int, str]:
    """The aggregator's statement (rollup_hours: vigil_raw_stats materialised) over the slot's
    hour, read back from the monitor-level (region 0) rows of rollup_1h, then rolled back."""
    hour = at.slot.replace(minute=0)
    with db.transaction(force_rollback=True):
        db.execute(sql("rollup_hours"), {"from_ts": hour, "to_ts": hour + timedelta(hours=1), "ids": None})
        return _counted({r[0]: r[1:] for r in db.execute(
            "SELECT monitor_id, up_slots, down_slots, missed_slots FROM rollup_1h"
            " WHERE region_id = 0 AND monitor_id = ANY (%s)", (ids,))})


def evaluator_judgements(db: psycopg.Connection, account_id: int, at: Scripted) -> dict[int, str]:
    """The evaluator's down rule on each monitor's slot: a failures=1 down rule with an open
    incident, so eval_down reports every decided slot ('down' = a failed slot in a row, 'up' =
    a good one); monitors it leaves out judged the slot missed or not decided yet."""
    for mid in at.monitors.values():
        rule = make_rule(db, account_id, "down", {"failures": 1}, monitor_id=mid, name=f"down{mid}")
        db.execute("INSERT INTO incidents (account_id, rule_id, monitor_id, state, started_at, fired_at,"
                   " last_evaluated_at) VALUES (%s, %s, %s, 'firing', %s, %s, %s)",
                   (account_id, rule, mid, at.start, at.start, at.start))
    with db.transaction(force_rollback=True):
        db.execute(sql("rule_eval_tables"))
        db.execute(sql("eval_down"), {"at": at.slot + timedelta(minutes=1), "monitor_ids": None})
        rows = db.execute("SELECT monitor_id, reason FROM rule_eval").fetchall()
    return {mid: "down" if reason["failed_slots"] else "up" for mid, reason in rows
            if reason["failed_slots"] + reason["good_slots"] == 1}


async def test_every_reader_of_slots_judges_the_scripted_slots_alike(db, account, scripted, client, auth, settings):
    at, ids = scripted, list(scripted.monitors.values())
    expected = {at.monitors[i]: status for i, (_, _, status) in enumerate(CASES)}
    got: dict[str, dict[int, str]] = {}
    got["vigil_slots"] = _by_monitor(db, "SELECT monitor_id, status FROM vigil_slots(%s, %s, %s)", (ids, at.start, at.end))
    got["vigil_monitor_slots"] = {mid: db.execute("SELECT status FROM vigil_monitor_slots(%s, %s, %s)",
                                                  (mid, at.start, at.end)).fetchone()[0] for mid in ids}
    got["notify_slot_states"] = _by_monitor(db, "SELECT monitor_id, state FROM notify_slot_states(%s, %s, %s)",
                                            (ids, at.start, at.end))
    got["slot_region_agreement"] = {}
    for mid in ids:
        (down, status) = db.execute("SELECT down, status FROM slot_region_agreement WHERE monitor_id = %s"
                                    " AND time >= %s AND time < %s", (mid, at.start, at.end)).fetchone()
        assert down == (status == "down")
        got["slot_region_agreement"][mid] = status
    got["vigil_window_stats"] = _counted({r[0]: r[1:] for r in db.execute(
        "SELECT monitor_id, up_slots, down_slots, missed_slots FROM vigil_window_stats(%s, %s, %s)", (ids, at.start, at.end))})

    window = {"from": at.start.isoformat(), "to": at.end.isoformat()}
    got["api stats"], got["api status"], downtimes = {}, {}, {}
    for mid in ids:
        body = (await client.get(f"/api/v1/monitors/{mid}/stats", params=window, headers=auth)).json()
        got["api stats"][mid] = _counted({mid: (body["up_slots"], body["down_slots"], body["missed_slots"])})[mid]
        got["api status"][mid] = (await client.get(f"/api/v1/monitors/{mid}/status", headers=auth)).json()["status"]
        periods = (await client.get(f"/api/v1/monitors/{mid}/downtimes", params=window, headers=auth)).json()["periods"]
        downtimes[mid] = [p["down_slots"] for p in periods]

    iso = at.slot.isocalendar()
    async with await psycopg.AsyncConnection.connect(settings.database_url, row_factory=dict_row) as conn:
        report = await build_report(conn, account[0], account[1], f"{iso.year}-W{iso.week:02d}", "UTC")
    got["weekly report"] = _counted({m.id: (m.up_slots, m.down_slots, m.missed_slots) for m in report.monitors})
    # its hourly chart: (up, down) of the slot's hour from vigil_raw_stats; neither = missed
    got["weekly report hourly"] = {m.id: {(1, 0): "up", (0, 1): "down", (0, 0): "missed"}[
        (m.hourly[0]["up_slots"], m.hourly[0]["down_slots"])] for m in report.monitors if len(m.hourly) == 1}
    got["aggregator rollup_1h"] = rolled_up_judgements(db, at, ids)

    assert got == dict.fromkeys(got, expected)
    assert downtimes == {mid: [1] if status == "down" else [] for mid, status in expected.items()}

    # The evaluator decides a slot only once regions still to report cannot change it; a
    # slot it decides is judged by the rule, and every slot without absent regions is decided.
    early = evaluator_judgements(db, account[0], at)
    settled = {at.monitors[i] for i, (_, outcomes, _) in enumerate(CASES) if None not in outcomes}
    assert {mid: s for mid, s in expected.items() if s != "missed" and mid in settled} == \
        {mid: s for mid, s in early.items() if mid in settled}
    assert all(expected[mid] == s for mid, s in early.items())


def test_the_evaluator_judges_swept_slots_by_the_rule(db, account, scripted):
    at = scripted
    """Once the sweeper has marked absent regions missed, every slot is decided: the
    evaluator's judgement equals the rule's, and the rule's own answer is unchanged."""
    for i, (_, outcomes, _) in enumerate(CASES):
        for region, outcome in zip(REGIONS, outcomes, strict=False):
            if outcome is None:
                write_results(db, at.monitors[i], region, [at.slot], up=False, error_kind=ErrorKind.missed)
    ids = list(at.monitors.values())
    expected = {at.monitors[i]: status for i, (_, _, status) in enumerate(CASES)}
    assert _by_monitor(db, "SELECT monitor_id, status FROM vigil_slots(%s, %s, %s)", (ids, at.start, at.end)) == expected
    assert evaluator_judgements(db, account[0], at) == {m: s for m, s in expected.items() if s != "missed"}

