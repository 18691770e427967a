"""The connection pool survives connections the server closed while they sat idle (a restart, a proxy); sessions
run in UTC without JIT."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine


async def test_an_idle_connection_closed_by_the_server_is_replaced_before_use(
    database_url: str, engine: AsyncEngine
) -> None:
    pooled = create_engine(database_url, pool_size=1, ping_idle_after_s=0)
    try:
        async with pooled.connect() as conn:
            first_pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        async with engine.connect() as admin:  # as a restart would: the pooled connection's backend goes away
            assert await admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
        async with pooled.connect() as conn:
            second_pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        assert second_pid != first_pid
    finally:
        await pooled.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(database_url: str, engine: AsyncEngine) -> None:
    pooled = create_engine(database_url, pool_size=1, ping_idle_after_s=60)
    try:
        async with pooled.connect() as conn:
            backend = await conn.scalar(text("SELECT pg_backend_pid()"))

        async def last_statement_at() -> object:
            async with engine.connect() as admin:  # a transaction of its own: statistics are snapshots per transaction
                return await admin.scalar(
                    text("SELECT query_start FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend}
                )

        before = await last_statement_at()
        async with pooled.connect():
            after = await last_statement_at()  # checked out again: a ping would have run on that backend by now
        assert before is not None and after == before
    finally:
        await pooled.dispose()


async def test_sessions_run_without_jit_compilation(engine: AsyncEngine) -> None:
    # A report query with a high row estimate spent seconds in JIT compilation (benchmarks/analytics.py).
    async with engine.connect() as conn:
        assert await conn.scalar(text("SHOW jit")) == "off"
        assert await conn.scalar(text("SHOW timezone")) == "UTC"
