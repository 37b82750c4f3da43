"""vigil_in_maintenance and friends: one-off and weekly windows, per monitor and per
account, in local time across midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.alerts_fixtures import make_monitor


def _window(db, account_id, monitor_id=None, **cols) -> int:
    names = ["account_id", "monitor_id", *cols]
    return db.execute(
        f"INSERT INTO maintenance_windows ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}) RETURNING id",
        [account_id, monitor_id, *cols.values()]).fetchone()[0]


def _inside(db, monitor_id, ts: str) -> bool:
    return db.execute("SELECT vigil_in_maintenance(%s, %s::timestamptz)", (monitor_id, ts)).fetchone()[0]


@pytest.fixture
def two_monitors(db, account):
    return make_monitor(db, account[0], "a", regions=("eu",)), make_monitor(db, account[0], "b", regions=("eu",))


def test_one_off_window_covers_its_monitor_only_and_is_half_open(db, account, two_monitors):
    a, b = two_monitors
    _window(db, account[0], a, starts_at=datetime(2026, 3, 2, 10, tzinfo=UTC), ends_at=datetime(2026, 3, 2, 11, tzinfo=UTC))
    assert _inside(db, a, "2026-03-02 10:00Z") and _inside(db, a, "2026-03-02 10:59:59Z")
    assert not _inside(db, a, "2026-03-02 11:00Z") and not _inside(db, a, "2026-03-02 09:59Z")
    assert not _inside(db, b, "2026-03-02 10:30Z")


def test_account_window_covers_every_monitor_of_the_account_only(db, account, two_monitors):
    from vigil.accounts import create_account_with_key

    other = make_monitor(db, create_account_with_key(db, "other", "admin")[0], "c", regions=("eu",))
    _window(db, account[0], None, starts_at=datetime(2026, 3, 2, 10, tzinfo=UTC), ends_at=datetime(2026, 3, 2, 11, tzinfo=UTC))
    a, b = two_monitors
    assert _inside(db, a, "2026-03-02 10:30Z") and _inside(db, b, "2026-03-02 10:30Z")
    assert not _inside(db, other, "2026-03-02 10:30Z")
    in_set = {r[0] for r in db.execute("SELECT monitor_id FROM vigil_monitors_in_maintenance('2026-03-02 10:30Z', '2026-03-02 10:31Z')")}
    assert in_set == {a, b}


@pytest.mark.parametrize(("ts", "inside"), [
    ("2026-03-07 23:30+01", True),    # Saturday 23:00 Berlin + 2 h, before the DST change
    ("2026-03-08 00:59+01", True),    # past midnight, still the Saturday occurrence
    ("2026-03-08 01:00+01", False),
    ("2026-03-07 22:59+01", False),
    ("2026-03-28 23:00+01", True),    # the Saturday before summer time starts
    ("2026-03-29 00:30+01", True),
    ("2026-04-04 23:00+02", True),    # in summer time: still 23:00 local, now UTC+2
    ("2026-04-04 21:30Z", True),      # 23:30 local; a window kept at UTC+1 would start at 22:00Z
    ("2026-04-04 23:30Z", False),     # 01:30 local; a window kept at UTC+1 would still be open
])
def test_weekly_window_follows_local_time_across_midnight_and_dst(db, account, two_monitors, ts, inside):
    a, _ = two_monitors
    _window(db, account[0], a, weekdays=[6], start_time="23:00", duration_s=7200, time_zone="Europe/Berlin")
    assert _inside(db, a, ts) is inside
