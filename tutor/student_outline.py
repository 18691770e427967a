"""What a student sees of a course: its weeks and topics with their progress and mastery, and each week's quiz."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tutor.review.due import DueSummary, due_summary

WEEKS = text(
    """
    SELECT m.id, m.week, m.title, m.description,
           COALESCE(up.status, 'not_started') AS status, COALESCE(up.progress_percentage, 0) AS progress,
           q.quiz_id, q.title AS quiz_title,
           (SELECT count(*) FROM quiz_questions qq WHERE qq.quiz_id = q.quiz_id) AS questions,
           (SELECT max(r.score) FROM quiz_responses r WHERE r.quiz_id = q.quiz_id AND r.user_id = :user_id) AS best
    FROM modules m
    LEFT JOIN user_progress up ON up.module_id = m.id AND up.user_id = :user_id AND up.topic_id IS NULL
    LEFT JOIN LATERAL (
        SELECT quiz_id, title FROM quizzes WHERE module_id = m.id AND quiz_type = 'module' ORDER BY id LIMIT 1
    ) q ON true
    WHERE m.course_id = :course_id
    ORDER BY m.week, m.order_index NULLS LAST, m.id
    """
)

TOPICS = text(
    """
    SELECT t.id, t.module_id, t.title, t.estimated_time, COALESCE(up.status, 'not_started') AS status,
           tm.mastery, COALESCE(tm.answers, 0) AS answers
    FROM topics t
    JOIN modules m ON m.id = t.module_id
    LEFT JOIN user_progress up ON up.topic_id = t.id AND up.user_id = :user_id
    LEFT JOIN topic_mastery tm ON tm.topic_id = t.id AND tm.user_id = :user_id
    WHERE m.course_id = :course_id
    ORDER BY t.module_id, t.order_index NULLS LAST, t.id
    """
)


@dataclass(frozen=True)
class TopicLine:
    topic_id: int
    title: str
    estimated_time: int | None  # minutes
    status: str  # not_started | in_progress | completed
    mastery: float | None  # None until a quiz answer on it
    answers: int
    due: int  # questions on it due for review now


@dataclass(frozen=True)
class WeekLine:
    module_id: int
    week: int
    title: str
    description: str | None
    status: str
    progress: int  # percent
    quiz_id: str | None
    quiz_title: str | None
    quiz_questions: int
    best_score: int | None
    topics: list[TopicLine]


@dataclass(frozen=True)
class StudentOutline:
    weeks: list[WeekLine]
    due: DueSummary

    @property
    def progress(self) -> int:
        """Untouched weeks count as 0 (as the analytics API counts them)."""
        return round(sum(w.progress for w in self.weeks) / len(self.weeks)) if self.weeks else 0


async def student_outline(session: AsyncSession, *, course_id: int, user_id: str, now: datetime) -> StudentOutline:
    params = {"course_id": course_id, "user_id": user_id}
    due = await due_summary(session, user_id=user_id, course_id=course_id, now=now, with_next=True)
    due_by_topic = {t.topic_id: t.questions for t in due.topics}
    topics: dict[int, list[TopicLine]] = {}
    for t_id, module_id, title, minutes, status, mastery, answers in (await session.execute(TOPICS, params)).all():
        line = TopicLine(t_id, title, minutes, status, mastery, int(answers), due_by_topic.get(t_id, 0))
        topics.setdefault(module_id, []).append(line)
    weeks = [
        WeekLine(m_id, week, title, desc, status, int(progress), quiz, quiz_title, int(n), best, topics.get(m_id, []))
        for m_id, week, title, desc, status, progress, quiz, quiz_title, n, best in (
            await session.execute(WEEKS, params)
        ).all()
    ]
    return StudentOutline(weeks, due)
