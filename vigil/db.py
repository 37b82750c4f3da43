"""The database pool every async service uses."""

from __future__ import annotations

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool


async def _session_defaults(conn) -> None:
    """Every pooled connection runs without JIT compilation, whatever the server's default:
    compiling the plan of a window query over the hypertables costs hundreds of times the
    query itself (see sql/0025_no_jit.sql)."""
    await conn.execute("SET jit = off")
    await conn.commit()


async def open_pool(dsn: str, min_size: int = 1, max_size: int = 10, wait: bool = True,
                    dict_rows: bool = False) -> AsyncConnectionPool:
    kwargs = {"row_factory": dict_row} if dict_rows else {}
    pool = AsyncConnectionPool(dsn, min_size=min_size, max_size=max_size, open=False,
                               kwargs=kwargs, configure=_session_defaults, timeout=10,
                               reconnect_timeout=0)
    await pool.open(wait=wait, timeout=30)
    return pool
