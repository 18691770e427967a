"""A teacher's courses at a glance: size (weeks, topics, quizzes, files), students and last activity, one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tutor.identity import Principal

# The page of courses first, then each table aggregated once over those courses (grouped by course) and joined:
# one scan per table whatever the number of courses. Students as in tutor.students: progress, a chat message
# or a quiz attempt; not teachers or admins.
SUMMARIES = text(
    """
    WITH mine AS (
        SELECT course_id, title, description, status, created_by, created_at FROM courses
        WHERE CAST(:everyone AS boolean) OR created_by = :user_id
        ORDER BY created_at DESC, course_id DESC
        LIMIT :limit
    ), weeks AS (
        SELECT m.course_id, count(DISTINCT m.id) AS weeks, count(t.id) AS topics
        FROM modules m LEFT JOIN topics t ON t.module_id = m.id
        WHERE m.course_id IN (SELECT course_id FROM mine) GROUP BY m.course_id
    ), quiz_counts AS (
        SELECT course_id, count(*) AS quizzes FROM quizzes
        WHERE course_id IN (SELECT course_id FROM mine) AND made_for IS NULL GROUP BY course_id
    ), file_counts AS (
        SELECT course_id, count(*) AS files FROM source_files
        WHERE course_id IN (SELECT course_id FROM mine) GROUP BY course_id
    ), chats AS (
        SELECT course_id, user_id, message_type, max(timestamp) AS last FROM chat_history
        WHERE course_id IN (SELECT course_id FROM mine) GROUP BY course_id, user_id, message_type
    ), attempts AS (
        SELECT q.course_id, r.user_id, max(r.submitted_at) AS last
        FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
        WHERE q.course_id IN (SELECT course_id FROM mine) GROUP BY q.course_id, r.user_id
    ), activity AS (
        SELECT course_id, max(last) AS last_activity FROM (
            SELECT course_id, last FROM chats UNION ALL SELECT course_id, last FROM attempts
        ) a GROUP BY course_id
    ), people AS (
        SELECT course_id, user_id FROM user_progress WHERE course_id IN (SELECT course_id FROM mine)
        UNION SELECT course_id, user_id FROM chats WHERE message_type = 'user'
        UNION SELECT course_id, user_id FROM attempts
    ), students AS (
        SELECT p.course_id, count(*) AS students
        FROM people p JOIN users u ON u.user_id = p.user_id
        WHERE COALESCE(u.role, 'student') NOT IN ('teacher', 'admin')
        GROUP BY p.course_id
    )
    SELECT c.course_id, c.title, c.description, c.status, c.created_by, c.created_at,
           COALESCE(w.weeks, 0), COALESCE(w.topics, 0), COALESCE(q.quizzes, 0), COALESCE(f.files, 0),
           COALESCE(s.students, 0), a.last_activity
    FROM mine c
    LEFT JOIN weeks w ON w.course_id = c.course_id
    LEFT JOIN quiz_counts q ON q.course_id = c.course_id
    LEFT JOIN file_counts f ON f.course_id = c.course_id
    LEFT JOIN students s ON s.course_id = c.course_id
    LEFT JOIN activity a ON a.course_id = c.course_id
    ORDER BY c.created_at DESC, c.course_id DESC
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
