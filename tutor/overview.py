"""A teacher's courses at a glance: size (weeks, topics, quizzes, files), students and last activity, one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tutor.identity import Principal

# Correlated counts per course row: each is an index lookup on its table's course (or module) id, and the page
# holds at most :limit courses. Students as in tutor.students: progress, a chat message or a quiz attempt; not teachers.
SUMMARIES = text(
    """
    SELECT c.course_id, c.title, c.description, c.status, c.created_by, c.created_at,
           (SELECT count(*) FROM modules m WHERE m.course_id = c.course_id) AS weeks,
           (SELECT count(*) FROM topics t JOIN modules m ON m.id = t.module_id
             WHERE m.course_id = c.course_id) AS topics,
           (SELECT count(*) FROM quizzes q WHERE q.course_id = c.course_id) AS quizzes,
           (SELECT count(*) FROM source_files f WHERE f.course_id = c.course_id) AS files,
           (SELECT count(*) FROM (
                SELECT up.user_id FROM user_progress up WHERE up.course_id = c.course_id
                UNION SELECT ch.user_id FROM chat_history ch
                 WHERE ch.course_id = c.course_id AND ch.message_type = 'user'
                UNION SELECT r.user_id FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
                 WHERE q.course_id = c.course_id
            ) s JOIN users u ON u.user_id = s.user_id
            WHERE COALESCE(u.role, 'student') NOT IN ('teacher', 'admin')) AS students,
           GREATEST(
               (SELECT max(ch.timestamp) FROM chat_history ch WHERE ch.course_id = c.course_id),
               (SELECT max(r.submitted_at) FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
                 WHERE q.course_id = c.course_id)
           ) AS last_activity
    FROM courses c
    WHERE CAST(:everyone AS boolean) OR c.created_by = :user_id
    ORDER BY c.created_at DESC, c.course_id DESC
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class CourseSummary:
    course_id: int
    title: str
    description: str | None
    status: str | None
    created_by: str | None
    created_at: datetime | None
    weeks: int
    topics: int
    quizzes: int
    files: int
    students: int
    last_activity: datetime | None  # the last student message or quiz submission; None before any


async def course_summaries(session: AsyncSession, user: Principal, *, limit: int = 50) -> list[CourseSummary]:
    """The courses a teacher manages (every course for an admin), newest first, with their counts."""
    params = {"everyone": user.is_admin, "user_id": user.user_id, "limit": limit}
    return [CourseSummary(*row) for row in (await session.execute(SUMMARIES, params)).all()]
