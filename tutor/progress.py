"""Topic progress from the chat: a topic the student asked about and was answered from is in progress."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import UserProgress
from tutor.identity import utcnow


async def touch_topics(session: AsyncSession, user_id: str, course_id: int, topics: set[tuple[int, int]]) -> None:
    """(module_id, topic_id) pairs become in_progress; a completed topic stays completed."""
    if not topics:
        return
    now = utcnow()
    stmt = insert(UserProgress).values(
        [
            {
                "user_id": user_id,
                "course_id": course_id,
                "module_id": module_id,
                "topic_id": topic_id,
                "status": "in_progress",
                "progress_percentage": 0,
                "last_accessed": now,
            }
            for module_id, topic_id in sorted(topics)
        ]
    )
    # One statement for all of them; sorted rows keep concurrent turns from locking in opposite orders.
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="unique_user_progress",
            set_={
                "last_accessed": now,
                "status": func.coalesce(func.nullif(UserProgress.status, "not_started"), stmt.excluded.status),
            },
        )
    )
