"""What a student sees of a course: its weeks and topics with their progress and mastery, and each week's quiz."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tutor.review.due import DueCount, DueSummary, due_summary, summarize

# The whole outline in one statement: each week with its topics, one aggregate per table (the week quiz's questions,
# the student's best score, the student's review cards per topic), the student's progress and mastery joined on. A
# week without topics is one row with NULL topic columns. Cards of no topic (or of one deleted since: the card's
# topic is then NULL) and the next due time come once, as uncorrelated subqueries on every row.
OUTLINE = text(
    """
    WITH week_quiz AS (
        SELECT DISTINCT ON (q.module_id) q.module_id, q.quiz_id, q.title
        FROM quizzes q JOIN modules m ON m.id = q.module_id
        WHERE m.course_id = :course_id AND q.quiz_type = 'module'
        ORDER BY q.module_id, q.id
    ), questions AS (
        SELECT qq.quiz_id, count(*) AS n FROM quiz_questions qq JOIN week_quiz w ON w.quiz_id = qq.quiz_id
        GROUP BY qq.quiz_id
    ), best AS (
        SELECT r.quiz_id, max(r.score) AS score FROM quiz_responses r JOIN week_quiz w ON w.quiz_id = r.quiz_id
        WHERE r.user_id = :user_id GROUP BY r.quiz_id
    ), progress AS (
        SELECT module_id, topic_id, status, progress_percentage FROM user_progress
        WHERE user_id = :user_id AND course_id = :course_id
    ), cards AS (
        SELECT topic_id, count(*) FILTER (WHERE due <= :now) AS due_now,
               min(due) FILTER (WHERE due <= :now) AS first_due, min(due) AS next_due
        FROM review_cards WHERE user_id = :user_id AND course_id = :course_id
        GROUP BY topic_id
    )
    SELECT m.id, m.week, m.title, m.description,
           COALESCE(wp.status, 'not_started') AS status, COALESCE(wp.progress_percentage, 0) AS progress,
           w.quiz_id, w.title AS quiz_title, COALESCE(n.n, 0) AS questions, b.score AS best,
           t.id AS topic_id, t.title AS topic_title, t.estimated_time,
           COALESCE(tp.status, 'not_started') AS topic_status, tm.mastery, COALESCE(tm.answers, 0) AS answers,
           COALESCE(c.due_now, 0) AS due_now, c.first_due,
           (SELECT due_now FROM cards WHERE topic_id IS NULL) AS other_due_now,
           (SELECT first_due FROM cards WHERE topic_id IS NULL) AS other_first_due,
           (SELECT min(next_due) FROM cards) AS next_due
    FROM modules m
    LEFT JOIN progress wp ON wp.module_id = m.id AND wp.topic_id IS NULL
    LEFT JOIN week_quiz w ON w.module_id = m.id
    LEFT JOIN questions n ON n.quiz_id = w.quiz_id
    LEFT JOIN best b ON b.quiz_id = w.quiz_id
    LEFT JOIN topics t ON t.module_id = m.id
    LEFT JOIN progress tp ON tp.topic_id = t.id
    LEFT JOIN topic_mastery tm ON tm.topic_id = t.id AND tm.user_id = :user_id
    LEFT JOIN cards c ON c.topic_id = t.id
    WHERE m.course_id = :course_id
    ORDER BY m.week, m.order_index NULLS LAST, m.id, t.order_index NULLS LAST, t.id
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
    """One statement (the student page runs it on every view)."""
    rows = (await session.execute(OUTLINE, {"course_id": course_id, "user_id": user_id, "now": now})).all()
    if not rows:  # no weeks: the reviews (of a teacher's own quizzes, say) still count
        return StudentOutline(
            [], await due_summary(session, user_id=user_id, course_id=course_id, now=now, with_next=True)
        )
    weeks: list[WeekLine] = []
    counts: list[DueCount] = []
    for r in rows:
        if not weeks or weeks[-1].module_id != r.id:
            quiz = (r.quiz_id, r.quiz_title, int(r.questions), r.best)
            weeks.append(WeekLine(r.id, r.week, r.title, r.description, r.status, int(r.progress), *quiz, []))
        if r.topic_id is not None:
            due = int(r.due_now)
            line = TopicLine(
                r.topic_id, r.topic_title, r.estimated_time, r.topic_status, r.mastery, int(r.answers), due
            )
            weeks[-1].topics.append(line)
            counts.append(DueCount(r.topic_id, r.topic_title, r.week, due, r.first_due))
    first = rows[0]
    counts.append(DueCount(None, None, None, int(first.other_due_now or 0), first.other_first_due))
    return StudentOutline(weeks, summarize(counts, first.next_due, with_next=True))
