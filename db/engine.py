"""The async engine and sessions; one AsyncSession per request or task, committed by its owner."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# A connection idle this long is pinged before use. SQLAlchemy's pool_pre_ping pings on every checkout, and
# its asyncpg ping is a BEGIN and a ROLLBACK: two round trips that took ~8% of a busy API's event loop.
# A connection in steady use is known alive; one that sat idle may have been closed by a restart or a proxy.
PING_IDLE_AFTER_S = 5.0


def create_engine(url: str, *, pool_size: int = 5, ping_idle_after_s: float = PING_IDLE_AFTER_S) -> AsyncEngine:
    # The seed's columns are TIMESTAMP without time zone filled by NOW(): pin the session time zone to UTC
    # so server defaults and the application's UTC values agree whatever the server's TimeZone is.
    # JIT off: it only pays for long analytical scans, and a report query whose row estimate ran high spent
    # seconds compiling (an analytics read took 4.7 s, 2.9 s of it JIT; benchmarks/analytics.py).
    engine = create_async_engine(
        url,
        # Connections beyond the pool are opened and closed per use: a backend fork each on the server. Size
        # the pool for the expected concurrency rather than leaning on overflow.
        pool_size=pool_size,
        max_overflow=10,
        connect_args={"server_settings": {"timezone": "UTC", "jit": "off"}},
    )
    _ping_when_idle(engine, ping_idle_after_s)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_after_s: float) -> None:
    """SQLAlchemy's pessimistic disconnect handling, only for connections that sat idle in the pool."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_after_s:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError(f"idle connection is gone: {error}") from error


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A unit of work: commit on success, roll back on any error. Unlike `session.begin()`, it also goes on in a
    transaction the session has begun already (a request's sign-in read, say)."""
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    await session.commit()


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def create_database(url: str, database: str) -> None:
    """Create `database` on the server of `url` unless it exists (CREATE DATABASE cannot run in a tx)."""
    engine = create_async_engine(with_database(url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database})
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        await engine.dispose()


async def drop_database(url: str, database: str) -> None:
    engine = create_async_engine(with_database(url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
