"""The database pool every async service uses."""

from __future__ import annotations

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from vigil.metrics import TimedCursor
from vigil.settings import get_settings


async def _session_defaults(conn) -> None:
    """Every pooled connection runs without JIT compilation, whatever the server's default:
    compiling the plan of a window query over the hypertables costs hundreds of times the
    query itself (see sql/0025_no_jit.sql)."""
    await conn.execute("SET jit = off")
    await conn.commit()


async def open_pool(dsn: str, min_size: int = 1, max_size: int = 10, wait: bool = True,
                    dict_rows: bool = False, wait_seconds: float = 10,
                    check: bool = False) -> AsyncConnectionPool:
    """wait_seconds: how long a caller waits for a connection. check: test each connection
    before handing it out (one round trip), for a server that may have restarted since.
    Every statement is timed into vigil_db_query_duration_seconds by its query name."""
    kwargs: dict = {"row_factory": dict_row} if dict_rows else {}
    if get_settings().metrics:
        kwargs["cursor_factory"] = TimedCursor
    pool = AsyncConnectionPool(dsn, min_size=min_size, max_size=max_size, open=False,
                               kwargs=kwargs, configure=_session_defaults, timeout=wait_seconds,
                               reconnect_timeout=0,
                               check=AsyncConnectionPool.check_connection if check else None)
    await pool.open(wait=wait, timeout=30)
    return pool
