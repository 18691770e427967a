"""The outbox other systems are fed by (xAPI statements, LMS scores): each message once, failures kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tutor import outbox
from tutor.settings import Settings

received: list[int] = []


@outbox.sender("test.outbox")
async def _send(payload: dict[str, Any], settings: Settings) -> None:
    if payload.get("malformed"):
        raise outbox.PermanentError("the receiver refused it")
    if payload.get("down"):
        raise ConnectionError("receiver unreachable")
    await asyncio.sleep(0.01)  # a network round trip: other workers run meanwhile
    received.append(int(payload["n"]))


@pytest.fixture
async def clean(engine: AsyncEngine) -> AsyncIterator[None]:
    received.clear()
    yield
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE outbox_messages"))


async def _rows(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT dedup_key, attempts, delivered_at IS NOT NULL AS delivered, failed_at IS NOT NULL AS failed, "
                "last_error, next_attempt_at > now() AS later FROM outbox_messages ORDER BY id"
            )
        )
        return {r.dedup_key: r for r in rows}


async def test_concurrent_workers_deliver_each_message_once_and_keep_what_failed(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings: Settings, clean: None
) -> None:
    async with sessions() as session, session.begin():
        for n in range(30):
            await outbox.enqueue(session, kind="test.outbox", key=f"m{n}", payload={"n": n})
        await outbox.enqueue(session, kind="test.outbox", key="m3", payload={"n": 333})  # the same event again
        await outbox.enqueue(session, kind="test.outbox", key="bad", payload={"malformed": True})
        await outbox.enqueue(session, kind="test.outbox", key="away", payload={"down": True})
    async with sessions() as session, session.begin():  # rolled back: its message never existed
        await outbox.enqueue(session, kind="test.outbox", key="undone", payload={"n": 999})
        await session.rollback()

    counts = await asyncio.gather(*(outbox.deliver_due(sessions, settings, limit=100) for _ in range(3)))

    assert sorted(received) == list(range(30)) and sum(counts) == 30
    rows = await _rows(engine)
    assert "undone" not in rows
    assert rows["bad"].failed and rows["bad"].attempts == 1 and "refused" in rows["bad"].last_error
    away = rows["away"]
    assert not away.delivered and not away.failed and away.later and "unreachable" in away.last_error
    assert await outbox.deliver_due(sessions, settings) == 0  # nothing due: the failed one waits its delay

    # After its last allowed attempt a message is failed for good, not retried forever.
    async with engine.begin() as conn:  # its delay has passed
        await conn.execute(text("UPDATE outbox_messages SET next_attempt_at = now() WHERE dedup_key = 'away'"))
    impatient = settings.model_copy(update={"outbox_retry_s": 0.0, "outbox_max_attempts": 3})
    for _ in range(3):
        await outbox.deliver_due(sessions, impatient)
    away = (await _rows(engine))["away"]
    assert away.failed and away.attempts == 3


async def test_a_claim_whose_worker_died_expires_and_another_worker_delivers(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings: Settings, clean: None
) -> None:
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, kind="test.outbox", key="m1", payload={"n": 1})
    async with engine.begin() as conn:  # a worker claims it (lease 0.3 s) and dies before sending
        await conn.execute(
            text("UPDATE outbox_messages SET attempts = 1, next_attempt_at = now() + interval '0.3 seconds'")
        )
    assert await outbox.deliver_due(sessions, settings) == 0  # still leased to the dead worker

    await asyncio.sleep(0.35)  # the lease running out is what is tested
    assert await outbox.deliver_due(sessions, settings) == 1
    assert received == [1] and (await _rows(engine))["m1"].attempts == 2
