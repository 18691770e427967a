"""Anonymous widget visitors: each is a users row, so their number per course is capped."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course, User
from tutor.errors import TutorError


def visitor_prefix(course_id: int) -> str:
    return f"visitor:{course_id}:"


async def admit_visitor(session: AsyncSession, redis: Redis, course: Course, user_id: str, cap: int) -> None:
    """A returning visitor always; a new one while the course has fewer than `cap` visitors.

    The count lives in Redis (one INCR per new visitor) and is recounted from PostgreSQL when Redis has lost it,
    so the users table is scanned at most once per Redis restart, not per visitor.
    """
    if (await session.execute(select(User.user_id).where(User.user_id == user_id))).first() is not None:
        return
    # The course's creation time is in the key: a count never outlives its course into another with the same id.
    course_id = course.course_id
    key = f"widget-visitors:{course_id}:{course.created_at.timestamp() if course.created_at else 0}"
    known = await redis.get(key)
    if known is None:
        prefix = visitor_prefix(course_id)
        counted = await session.scalar(
            select(func.count()).select_from(User).where(func.starts_with(User.user_id, prefix))
        )
        await redis.set(key, int(counted or 0), nx=True)
    if int(await redis.incr(key)) > cap:
        await redis.decr(key)
        raise TutorError(
            "visitor_limit_reached",
            "this course's widget has reached its number of anonymous visitors; ask the teacher",
            status=403,
        )
