from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from aggregator.packing import pack_closed_chunks

START = datetime(2026, 1, 5, tzinfo=UTC)


def _fill(db: psycopg.Connection, monitors: int, slots: int, start: datetime) -> None:
    """Results in arrival order: every monitor's slot t, then every monitor's slot t+1, ..."""
    with db.cursor().copy("COPY check_results (time, monitor_id, region_id, latency_us, up) FROM STDIN") as cp:
        for s in range(slots):
            t = start + timedelta(minutes=s)
            for m in range(1, monitors + 1):
                cp.write_row((t, m, 1, 1000 + m, True))


def _chunks(db: psycopg.Connection) -> dict[str, int]:
    return dict(db.execute(
        "SELECT format('%I.%I', chunk_schema, chunk_name), pg_indexes_size(format('%I.%I', chunk_schema, chunk_name)) "
        "FROM timescaledb_information.chunks WHERE hypertable_name = 'check_results'").fetchall())


@pytest.mark.timeout(60)
async def test_closed_chunks_get_their_index_packed_once_and_open_ones_are_left(settings, db):
    _fill(db, monitors=300, slots=200, start=START)                     # a closed day
    _fill(db, monitors=10, slots=5, start=datetime.now(UTC) - timedelta(minutes=10))  # today's chunk
    before = _chunks(db)

    packed = await pack_closed_chunks(settings.database_url, datetime.now(UTC), limit=10)

    after = _chunks(db)
    closed = [c for c in before if c in packed]
    assert closed and len(packed) < len(before)  # today's chunks are still open
    for chunk in closed:
        assert after[chunk] < before[chunk] * 0.85, (chunk, before[chunk], after[chunk])
    assert {r[0] for r in db.execute("SELECT chunk FROM packed_chunks")} == set(packed)
    # Nothing lost, and the rebuilt index still enforces one row per slot.
    assert db.execute("SELECT count(*) FROM check_results").fetchone()[0] == 300 * 200 + 10 * 5
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute("INSERT INTO check_results (time, monitor_id, region_id, up) VALUES (%s, 7, 1, true)",
                   (START,))
    # A second run finds nothing left to pack.
    assert await pack_closed_chunks(settings.database_url, datetime.now(UTC), limit=10) == []
