import psycopg

from vigil.migrate import migrate, migration_files
from vigil.settings import Settings


def test_check_results_is_a_hypertable_on_time_and_monitor_hash(db: psycopg.Connection):
    dims = db.execute(
        "SELECT column_name, dimension_type, num_partitions FROM timescaledb_information.dimensions "
        "WHERE hypertable_name = 'check_results' ORDER BY dimension_number").fetchall()
    assert dims[0][:2] == ("time", "Time")
    assert dims[1][0] == "monitor_id" and dims[1][1] == "Space" and dims[1][2] >= 1


def test_unique_key_is_monitor_region_slot(db: psycopg.Connection):
    idx = db.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'check_results'").fetchall()
    assert [r[0] for r in idx] == [
        "CREATE UNIQUE INDEX check_results_slot_key ON public.check_results "
        "USING btree (monitor_id, region_id, \"time\")"]


def test_migrate_twice_applies_nothing_the_second_time(settings: Settings):
    assert migrate(settings) == []
    names = [n for n, _ in migration_files()]
    with psycopg.connect(settings.database_url) as conn:
        recorded = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert recorded == names


def test_result_rows_carry_no_nulls_and_fit_64_bytes(db: psycopg.Connection):
    db.execute("INSERT INTO check_results (time, monitor_id, region_id, up) VALUES (now(), 1, 1, true)")
    size = db.execute("SELECT pg_column_size(c.*) FROM check_results c").fetchone()[0]
    assert size <= 64


def test_the_database_runs_without_jit_by_default(settings: Settings):
    with psycopg.connect(settings.database_url) as conn:  # a client that sets nothing itself
        assert conn.execute("SHOW jit").fetchone() == ("off",)


async def test_pooled_connections_turn_jit_off_whatever_the_server_says(settings: Settings):
    from urllib.parse import quote

    from vigil.db import open_pool

    sep = "&" if "?" in settings.database_url else "?"
    jit_on = f"{settings.database_url}{sep}options={quote('-c jit=on -c jit_above_cost=0')}"
    with psycopg.connect(jit_on) as conn:
        assert conn.execute("SHOW jit").fetchone() == ("on",)
    pool = await open_pool(jit_on, max_size=1)
    try:
        async with pool.connection() as conn:
            assert await (await conn.execute("SHOW jit")).fetchone() == ("off",)
            assert await (await conn.execute("SHOW jit_above_cost")).fetchone() == ("0",)
    finally:
        await pool.close()
