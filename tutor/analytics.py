"""Learning analytics: the seed's "student progress for a course" query, and per-module status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The seed's query, as written there, with the course and the student as parameters.
COURSE_PROGRESS = text(
    """
    SELECT
        c.title as course_title,
        COUNT(DISTINCT m.id) as total_modules,
        COUNT(DISTINCT CASE WHEN up.status = 'completed' THEN m.id END) as completed_modules,
        ROUND(AVG(up.progress_percentage), 2) as overall_progress
    FROM courses c
    LEFT JOIN modules m ON c.course_id = m.course_id
    LEFT JOIN user_progress up ON up.module_id = m.id AND up.user_id = :user_id AND up.topic_id IS NULL
    WHERE c.course_id = :course_id
    GROUP BY c.id
    """
)

MODULE_STATUS = text(
    """
    SELECT m.id, m.week, m.title,
           COALESCE(up.status, 'not_started') AS status,
           COALESCE(up.progress_percentage, 0) AS progress_percentage,
           up.completion_date, up.last_accessed,
           (SELECT max(r.score) FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
             WHERE q.module_id = m.id AND r.user_id = :user_id) AS best_score
    FROM modules m
    LEFT JOIN user_progress up ON up.module_id = m.id AND up.user_id = :user_id AND up.topic_id IS NULL
    WHERE m.course_id = :course_id
    ORDER BY m.week
    """
)


@dataclass(frozen=True)
class ModuleProgress:
    module_id: int
    week: int
    title: str
    status: str
    progress_percentage: int
    completion_date: datetime | None
    last_accessed: datetime | None
    best_score: int | None


@dataclass(frozen=True)
class CourseProgress:
    course_id: int
    user_id: str
    course_title: str
    total_modules: int
    completed_modules: int
    overall_progress: float
    modules: list[ModuleProgress]


async def course_progress(session: AsyncSession, course_id: int, user_id: str) -> CourseProgress:
    params = {"course_id": course_id, "user_id": user_id}
    head = (await session.execute(COURSE_PROGRESS, params)).one()
    modules = [ModuleProgress(*row) for row in (await session.execute(MODULE_STATUS, params)).all()]
    # AVG over modules the student has touched would overstate progress: untouched modules count as 0.
    overall = round(sum(m.progress_percentage for m in modules) / len(modules), 2) if modules else 0.0
    return CourseProgress(course_id, user_id, head.course_title, int(head.total_modules),
                          int(head.completed_modules), overall, modules)  # fmt: skip
