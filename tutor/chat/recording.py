"""What a chat turn writes: the question with a placeholder for the reply before it streams, the reply after.

Plain SQL, parsed once: building ORM statements per turn cost the event loop more than PostgreSQL spent on
running them, and each statement here is a single round trip.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import transaction
from tutor.progress import TOUCH_TOPICS_SQL, touch_params

log = logging.getLogger(__name__)

Also = Callable[[AsyncSession], Awaitable[None]]


@asynccontextmanager
async def _autocommit(session: AsyncSession) -> AsyncIterator[None]:
    """One statement, atomic by itself, with no BEGIN and COMMIT round trips; the connection is released after."""
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    async with transaction(session):  # its commit ends the session's nominal transaction; nothing is sent
        yield


# The reply's id is the larger one: transcripts are ordered by id.
_ADD_TURN = text(
    """
    WITH asked AS (
        INSERT INTO chat_history (user_id, course_id, session_id, message_type, message, metadata)
        VALUES (:user_id, :course_id, :session_id, 'user', :message, '{}'::jsonb)
        RETURNING id
    )
    INSERT INTO chat_history (user_id, course_id, session_id, message_type, message, metadata)
    SELECT :user_id, :course_id, :session_id, 'assistant', '',
           jsonb_build_object('incomplete', true, 'status', 'streaming', 'reply_to', asked.id)
    FROM asked
    RETURNING (SELECT id FROM asked), id
    """
)

# The reply's text and metadata (merged into the placeholder's: jsonb ||) and the progress of the topics it
# was answered from, in one statement: atomic by itself, so it runs without BEGIN and COMMIT round trips.
_FINISH_TURN = text(
    f"""
    WITH reply AS (
        UPDATE chat_history
        SET message = :message, metadata = metadata || CAST(:metadata AS jsonb), updated_at = now()
        WHERE id = :reply_id
        RETURNING id
    )
    {TOUCH_TOPICS_SQL}
    """
)

# The reply alone: what is written when the progress part of _FINISH_TURN failed (a topic deleted between the
# statement's read and its foreign-key check, a deadlock): the reply must never be lost to a progress write.
_FINISH_REPLY = text(
    "UPDATE chat_history SET message = :message, metadata = metadata || CAST(:metadata AS jsonb), updated_at = now() "
    "WHERE id = :reply_id"
)


async def add_turn(
    session: AsyncSession, *, user_id: str, course_id: int, session_id: str, message: str
) -> tuple[int, int]:
    """The student's message and a placeholder for the reply (incomplete, streaming): their ids."""
    async with _autocommit(session):
        row = (
            await session.execute(
                _ADD_TURN, {"user_id": user_id, "course_id": course_id, "session_id": session_id, "message": message}
            )
        ).one()
    return int(row[0]), int(row[1])


async def finish_turn(
    sessions: async_sessionmaker[AsyncSession],
    *,
    reply_id: int,
    text: str,
    metadata: dict[str, Any],
    user_id: str,
    course_id: int,
    topics: set[tuple[int, int]],
    also: Also | None = None,
) -> None:
    """The reply as it ended (complete, failed or cut off), and its topics marked in progress (best effort).

    `also`: more rows that report the turn (an xAPI statement), written in the reply's transaction.
    """
    reply = {"reply_id": reply_id, "message": text, "metadata": json.dumps(metadata)}
    try:
        await _write_reply(sessions, _FINISH_TURN, {**reply, **touch_params(user_id, course_id, topics)}, also)
        return
    except DBAPIError:
        if not topics:
            raise  # nothing but the reply was written: its failure is not a progress write's
        log.warning("progress of reply %s not recorded; recording the reply alone", reply_id, exc_info=True)
    await _write_reply(sessions, _FINISH_REPLY, reply, also)


async def _write_reply(
    sessions: async_sessionmaker[AsyncSession], statement: Any, params: dict[str, Any], also: Also | None
) -> None:
    async with sessions() as session:
        if also is None:
            async with _autocommit(session):
                await session.execute(statement, params)
            return
        async with transaction(session):
            await session.execute(statement, params)
            await also(session)


# Replies still streaming: their text so far (or only the time, when it did not grow) in one statement for all
# of a process's streams. A reply closed meanwhile (finished, or swept) is left alone.
_SAVE_STREAMING = text(
    """
    UPDATE chat_history AS c SET message = COALESCE(v.message, c.message), updated_at = now()
    FROM unnest(CAST(:ids AS integer[]), CAST(:texts AS text[])) AS v(id, message)
    WHERE c.id = v.id AND c.metadata ->> 'status' = 'streaming'
    """
)

# Replies whose process died mid-stream: nothing saved them for `stale_s`. They keep the text they had.
_CLOSE_ORPHANED = text(
    """
    UPDATE chat_history
    SET metadata = metadata || '{"status": "interrupted", "incomplete": true}'::jsonb, updated_at = now()
    WHERE metadata ->> 'status' = 'streaming' AND updated_at < now() - make_interval(secs => :stale_s)
    RETURNING id
    """
)


async def save_streaming(sessions: async_sessionmaker[AsyncSession], replies: dict[int, str | None]) -> None:
    """Replies in flight, by id: their text so far, or None for "still alive, nothing new"."""
    if not replies:
        return
    async with sessions() as session, _autocommit(session):
        await session.execute(_SAVE_STREAMING, {"ids": list(replies), "texts": list(replies.values())})


async def close_orphaned(sessions: async_sessionmaker[AsyncSession], stale_s: float) -> list[int]:
    """Close replies left `streaming` by a process that died, as `interrupted`: their ids."""
    async with sessions() as session, _autocommit(session):
        return [int(i) for i in (await session.execute(_CLOSE_ORPHANED, {"stale_s": stale_s})).scalars()]
