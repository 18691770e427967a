"""chat_history: messages of a session, a student's sessions, and who owns a session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import TextClause, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChatMessage
from tutor.errors import NotFoundError


def new_session_id() -> str:
    return f"sess_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class SessionOwner:
    user_id: str
    course_id: int | None


async def owner(session: AsyncSession, session_id: str) -> SessionOwner | None:
    row = (
        await session.execute(
            select(ChatMessage.user_id, ChatMessage.course_id)
            .where(ChatMessage.session_id == session_id)
            .order_by(ChatMessage.id)
            .limit(1)
        )
    ).one_or_none()
    return SessionOwner(row[0], row[1]) if row else None


async def own_session(session: AsyncSession, session_id: str, user_id: str, course_id: int | None = None) -> None:
    """404 for a session that is someone else's (or another course's): ids cannot be probed."""
    found = await owner(session, session_id)
    if found is None or found.user_id != user_id or (course_id is not None and found.course_id != course_id):
        raise NotFoundError("session_not_found", f"no chat session {session_id}")


async def recent(session: AsyncSession, session_id: str, limit: int) -> list[ChatMessage]:
    rows = (
        (
            await session.execute(
                select(ChatMessage)
                .where(ChatMessage.session_id == session_id)
                .order_by(ChatMessage.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    return list(reversed(rows))


async def transcript(session: AsyncSession, session_id: str) -> list[ChatMessage]:
    query = select(ChatMessage).where(ChatMessage.session_id == session_id).order_by(ChatMessage.id)
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class SessionSummary:
    session_id: str
    course_id: int | None
    user_id: str
    started_at: datetime | None
    last_message_at: datetime | None
    messages: int
    title: str


@cache
def _sessions_query(by_user: bool, by_course: bool) -> TextClause:
    """Built once per filter: building the statement cost more than running it (the student page runs it per view)."""
    where = " AND ".join(
        [c for c, on in (("user_id = :user_id", by_user), ("course_id = :course_id", by_course)) if on] or ["true"]
    )
    return text(
        f"""
        SELECT s.session_id, s.course_id, s.user_id, s.started_at, s.last_message_at, s.messages,
               COALESCE(substr(f.message, 1, 80), '') AS title
        FROM (
            SELECT session_id, min(course_id) AS course_id, min(user_id) AS user_id, min(timestamp) AS started_at,
                   max(timestamp) AS last_message_at, count(*) AS messages, min(id) AS first_id, max(id) AS last_id
            FROM chat_history WHERE {where}
            GROUP BY session_id
            ORDER BY max(timestamp) DESC, max(id) DESC
            LIMIT :limit
        ) s
        JOIN chat_history f ON f.id = s.first_id
        ORDER BY s.last_message_at DESC, s.last_id DESC
        """
    )


async def sessions_of(
    session: AsyncSession, *, user_id: str | None, course_id: int | None, limit: int = 50
) -> list[SessionSummary]:
    """The newest sessions, each titled by its first message, in one statement."""
    query = _sessions_query(user_id is not None, course_id is not None)
    rows = await session.execute(query, {"user_id": user_id, "course_id": course_id, "limit": limit})
    return [SessionSummary(r[0], r[1], r[2], r[3], r[4], int(r[5]), r[6]) for r in rows.all()]


ReplyStatus = str  # finished | streaming | interrupted | error


@dataclass(frozen=True)
class MessageState:
    """A message by its id, as a client that lost its stream needs it: how far it got, and the text so far."""

    id: int
    session_id: str
    course_id: int | None
    message_type: str
    status: ReplyStatus
    text: str
    timestamp: datetime | None
    updated_at: datetime | None
    metadata: dict[str, Any]


def reply_status(metadata: dict[str, Any] | None) -> ReplyStatus:
    status = (metadata or {}).get("status")
    if status in (None, "complete"):
        return "finished"
    return str(status)


async def own_message(
    session: AsyncSession, message_id: int, user_id: str, course_id: int | None = None
) -> MessageState:
    """404 for a message that is someone else's (or another course's): ids cannot be probed."""
    row = await session.get(ChatMessage, message_id, populate_existing=True)
    if row is None or row.user_id != user_id or (course_id is not None and row.course_id != course_id):
        raise NotFoundError("message_not_found", f"no chat message {message_id}")
    return MessageState(
        row.id,
        row.session_id,
        row.course_id,
        row.message_type,
        reply_status(row.metadata_),
        row.message,
        row.timestamp,
        row.updated_at,
        row.metadata_ or {},
    )
