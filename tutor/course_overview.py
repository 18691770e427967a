"""A course as its teacher manages it: its counts and last activity, status changes, what a delete removes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course

# One course with its counts (the course page's header and the delete confirmation; the list of courses is
# tutor.overview's); the correlated subqueries each use an index on course_id (or module_id),
# except chat_history's, which has none on course_id and is read once per course for the last message.
_OVERVIEW = text("""
    SELECT c.course_id, c.title, c.description, c.status, c.created_at,
           (SELECT count(*) FROM modules m WHERE m.course_id = c.course_id) AS weeks,
           (SELECT count(*) FROM topics t JOIN modules m ON m.id = t.module_id WHERE m.course_id = c.course_id)
             AS topics,
           (SELECT count(*) FROM quizzes q WHERE q.course_id = c.course_id AND q.made_for IS NULL) AS quizzes,
           (SELECT count(*) FROM quiz_questions qq JOIN quizzes q ON q.quiz_id = qq.quiz_id
             WHERE q.course_id = c.course_id AND q.made_for IS NULL) AS questions,
           (SELECT count(*) FROM source_files f WHERE f.course_id = c.course_id) AS files,
           (SELECT count(*) FROM (
               SELECT up.user_id FROM user_progress up WHERE up.course_id = c.course_id
               UNION SELECT ch.user_id FROM chat_history ch WHERE ch.course_id = c.course_id
           ) s) AS students,
           GREATEST(
               c.updated_at,
               (SELECT max(ch.timestamp) FROM chat_history ch WHERE ch.course_id = c.course_id),
               (SELECT max(r.submitted_at) FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
                 WHERE q.course_id = c.course_id)
           ) AS last_activity
    FROM courses c
    WHERE c.course_id = :course_id
""")


@dataclass(frozen=True)
class CourseSummary:
    course_id: int
    title: str
    description: str | None
    status: str | None
    created_at: datetime | None
    weeks: int
    topics: int
    quizzes: int
    questions: int
    files: int
    students: int
    last_activity: datetime | None


async def course_summary(session: AsyncSession, course: Course) -> CourseSummary:
    rows = await session.execute(_OVERVIEW, {"course_id": course.course_id})
    return CourseSummary(*rows.one())


@dataclass(frozen=True)
class DeletionSummary:
    """What deleting a course takes with it, named on the confirmation page."""

    course: CourseSummary
    filenames: list[str]
    responses: int
    messages: int


async def deletion_summary(session: AsyncSession, course: Course) -> DeletionSummary:
    cid = {"course_id": course.course_id}
    filenames = (
        await session.execute(text("SELECT filename FROM source_files WHERE course_id = :course_id ORDER BY id"), cid)
    ).scalars()
    responses = await session.scalar(
        text(
            "SELECT count(*) FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id "
            "WHERE q.course_id = :course_id"
        ),
        cid,
    )
    messages = await session.scalar(text("SELECT count(*) FROM chat_history WHERE course_id = :course_id"), cid)
    return DeletionSummary(
        await course_summary(session, course), list(filenames), int(responses or 0), int(messages or 0)
    )
