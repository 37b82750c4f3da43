"""The SQL layout (docs/sql.md): migrations hold tables and data changes, sql/functions/ every
function, view and trigger, applied after the migrations by every migrate. A freshly migrated
database, one upgraded from an older migration, and one whose functions were changed by hand
all end with exactly sql/schema.sql; the SQL helpers state the same facts as Python."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest

from aggregator import histogram
from vigil import migrate as migrate_module
from vigil.constants import ErrorKind
from vigil.devcluster import Postgres
from vigil.migrate import FUNCTION_FILES, function_files, migrate
from vigil.schema import SNAPSHOT, WRITE_COMMAND, diff, dump
from vigil.settings import Settings


@pytest.fixture
def new_database(pg: Postgres, base_settings: Settings) -> Iterator[Settings]:
    """An empty database beside the session's, dropped afterwards."""
    name = f"vigil_layout_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base_settings.model_copy(update={
            "database_url": f"postgresql://{pg.user}@127.0.0.1:{pg.port}/{name}"})
    finally:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def assert_matches_snapshot(settings: Settings) -> None:
    expected, actual = SNAPSHOT.read_text(), dump(settings.database_url)
    assert actual == expected, (
        f"sql/schema.sql is out of date: run `{WRITE_COMMAND}` and commit it\n{diff(expected, actual)}")


def test_a_freshly_migrated_database_matches_the_schema_snapshot(new_database: Settings):
    migrate(new_database)
    assert_matches_snapshot(new_database)


# What a database migrated to 0015 by the migrations of that time held beside the tables: its
# functions had the bodies of their day. Three of them, as written then: the late-row marker
# (one mark per hour, before marks became per monitor), its trigger, and the per-slot view
# before it gained its status column.
OLD_OBJECTS_AT_0015 = """
CREATE FUNCTION vigil_mark_late_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollup_dirty (bucket) VALUES (time_bucket(interval '1 hour', NEW.time))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER check_results_late_rows AFTER INSERT ON check_results
FOR EACH ROW WHEN (NEW.time < statement_timestamp() - interval '2 minutes')
EXECUTE FUNCTION vigil_mark_late_row();
CREATE VIEW slot_region_agreement AS
SELECT r.monitor_id, r.time, cardinality(m.regions) AS regions_expected,
       count(*)::int AS regions_reporting, (count(*) FILTER (WHERE r.up))::int AS regions_up,
       (count(*) FILTER (WHERE NOT r.up AND r.error_kind <> 13))::int AS regions_down,
       (count(*) FILTER (WHERE r.error_kind = 13))::int AS regions_missed, m.region_quorum,
       count(*) FILTER (WHERE NOT r.up AND r.error_kind <> 13) >= m.region_quorum AS down
FROM check_results r JOIN monitors m ON m.id = r.monitor_id
GROUP BY r.monitor_id, r.time, m.regions, m.region_quorum;
"""


def test_a_database_at_0015_with_old_functions_upgrades_to_the_snapshot(new_database: Settings):
    applied = migrate(new_database, up_to="0015")
    assert applied[-1].startswith("0015_") and all(name[:4] <= "0015" for name in applied)
    with psycopg.connect(new_database.database_url, autocommit=True) as conn:
        # up_to applies no functions file: they are written for the latest tables
        assert conn.execute("SELECT to_regprocedure('vigil_slots(integer[], timestamptz, timestamptz, smallint)')"
                            ).fetchone() == (None,)
        conn.execute(OLD_OBJECTS_AT_0015)
    rest = migrate(new_database)
    assert rest and all(name[:4] > "0015" for name in rest)
    assert_matches_snapshot(new_database)


def test_migrate_restores_functions_views_and_triggers_changed_since(new_database: Settings):
    migrate(new_database)
    with psycopg.connect(new_database.database_url, autocommit=True) as conn:
        conn.execute("CREATE OR REPLACE FUNCTION vigil_slot_status(regions_down bigint, regions_usable bigint, "
                     "quorum integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'up' $$")
        conn.execute("CREATE OR REPLACE TRIGGER check_results_late_rows AFTER INSERT ON check_results "
                     "FOR EACH ROW EXECUTE FUNCTION vigil_mark_late_row()")
        conn.execute("DROP TRIGGER monitors_schedule_changed ON monitors")
        conn.execute("DROP VIEW retention_kept")
    assert migrate(new_database) == []
    assert_matches_snapshot(new_database)


def test_a_failing_file_leaves_the_database_as_it_was(new_database: Settings, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    copy = tmp_path / "sql"
    shutil.copytree(Path(str(migrate_module.SQL_DIR)), copy)
    (copy / "functions" / "alerts.sql").write_text("SELECT no_such_function();\n")
    monkeypatch.setattr(migrate_module, "SQL_DIR", copy)
    with pytest.raises(psycopg.errors.UndefinedFunction) as err:
        migrate(new_database)
    assert any("alerts.sql" in note for note in err.value.__notes__)
    with psycopg.connect(new_database.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (0,)
        assert conn.execute("SELECT to_regclass('check_results')").fetchone() == (None,)


def test_a_functions_file_missing_from_the_order_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert [p.name for p in function_files()] == list(FUNCTION_FILES)
    (tmp_path / "functions").mkdir()
    for name in (*FUNCTION_FILES, "extra.sql"):
        (tmp_path / "functions" / name).write_text("")
    monkeypatch.setattr(migrate_module, "SQL_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="extra.sql"):
        function_files()


def test_sql_helpers_state_the_python_constants(db: psycopg.Connection):
    row = db.execute("SELECT vigil_missed_kind(), vigil_hist_index_bits(), vigil_hist_entry_max_count()").fetchone()
    assert row == (ErrorKind.missed, histogram.INDEX_BITS, histogram.MAX_COUNT)
    indexes = np.array([0, 1, 5, histogram.INDEX_MASK])
    counts = np.array([1, 7, histogram.MAX_COUNT, 360])
    packed = [int(e) for e in histogram.pack(indexes, counts)]
    entries = db.execute("SELECT array_agg(vigil_hist_entry(i, c) ORDER BY o) "
                         "FROM unnest(%s::int[], %s::bigint[]) WITH ORDINALITY AS u(i, c, o)",
                         (indexes.tolist(), counts.tolist())).fetchone()[0]
    assert entries == packed
    unpacked = db.execute("SELECT array_agg(vigil_hist_entry_bucket(e) ORDER BY o), "
                          "array_agg(vigil_hist_entry_count(e) ORDER BY o) "
                          "FROM unnest(%s::int[]) WITH ORDINALITY AS u(e, o)", (packed,)).fetchone()
    assert [list(a) for a in histogram.unpack(packed)] == [unpacked[0], unpacked[1]]


def test_sql_helpers_are_inlined_into_the_statements_that_use_them(db: psycopg.Connection):
    plan = "\n".join(r[0] for r in db.execute(
        "EXPLAIN VERBOSE SELECT vigil_result_down(up, error_kind), vigil_hist_entry_bucket(latency_us) "
        "FROM check_results"))
    assert "vigil_" not in plan
    assert f"<> '{int(ErrorKind.missed)}'::smallint" in plan and f"& {histogram.INDEX_MASK}" in plan
