"""A course's students as its teacher sees them: progress week by week, and who is stuck.

Each query aggregates its table once for the course and joins the aggregates (hash joins over a few hundred
rows); the student x week grid is filled in here. A cross join or per-student subqueries in SQL made the planner
expect 100x the rows, and PostgreSQL's JIT then spent seconds compiling the plan (benchmarks/analytics.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tutor.identity import utcnow

# Per student of the course (anyone with progress, a chat message or a quiz attempt in it, except teachers and
# admins: a teacher trying out their own course is not a student of it): the last time they made progress (a
# topic or week row written, a quiz submitted), when they first wrote (a student who never progressed is measured
# from then), and whether they completed the course.
STUDENTS = text(
    """
    WITH progress AS (
        SELECT user_id, max(last_accessed) AS last_progress,
               bool_or(module_id IS NULL AND topic_id IS NULL AND status = 'completed') AS completed
        FROM user_progress WHERE course_id = :course_id GROUP BY user_id
    ), chats AS (
        SELECT user_id, min(timestamp) AS first_seen
        FROM chat_history WHERE course_id = :course_id AND message_type = 'user' GROUP BY user_id
    ), attempts AS (
        SELECT r.user_id, max(r.submitted_at) AS last_attempt
        FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
        WHERE q.course_id = :course_id GROUP BY r.user_id
    ), everyone AS (
        SELECT user_id FROM progress UNION SELECT user_id FROM chats UNION SELECT user_id FROM attempts
    )
    SELECT e.user_id, GREATEST(p.last_progress, a.last_attempt), c.first_seen, COALESCE(p.completed, false)
    FROM everyone e
    JOIN users u ON u.user_id = e.user_id AND COALESCE(u.role, 'student') NOT IN ('teacher', 'admin')
    LEFT JOIN progress p ON p.user_id = e.user_id
    LEFT JOIN chats c ON c.user_id = e.user_id
    LEFT JOIN attempts a ON a.user_id = e.user_id
    ORDER BY e.user_id
    """
)

WEEKS = text(
    """
    SELECT m.id, m.week, m.title, count(t.id) AS topics
    FROM modules m LEFT JOIN topics t ON t.module_id = m.id
    WHERE m.course_id = :course_id
    GROUP BY m.id, m.week, m.title
    ORDER BY m.week
    """
)

# Per student and week they touched: the week's own row (written by its quiz), how many of its topics they asked
# about (the chat writes topic rows), the last time, and their best score on the week's quizzes.
TOUCHED = text(
    """
    WITH rows AS (
        SELECT user_id, module_id,
               max(status) FILTER (WHERE topic_id IS NULL) AS status,
               max(progress_percentage) FILTER (WHERE topic_id IS NULL) AS progress,
               count(topic_id) AS topics_touched,
               max(last_accessed) AS last_accessed
        FROM user_progress
        WHERE course_id = :course_id AND module_id IS NOT NULL
        GROUP BY user_id, module_id
    ), best AS (
        SELECT r.user_id, q.module_id, max(r.score) AS best_score
        FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
        WHERE q.course_id = :course_id AND q.module_id IS NOT NULL
        GROUP BY r.user_id, q.module_id
    )
    SELECT COALESCE(rows.user_id, best.user_id), COALESCE(rows.module_id, best.module_id),
           rows.status, rows.progress, COALESCE(rows.topics_touched, 0), best.best_score, rows.last_accessed
    FROM rows FULL JOIN best ON best.user_id = rows.user_id AND best.module_id = rows.module_id
    """
)


@dataclass(frozen=True)
class Week:
    module_id: int
    week: int
    title: str


@dataclass(frozen=True)
class WeekProgress:
    module_id: int
    week: int
    status: str  # not_started, in_progress or completed
    progress_percentage: int
    topics_touched: int
    topics_total: int
    best_score: int | None
    last_accessed: datetime | None


@dataclass
class StudentWeeks:
    user_id: str
    overall_progress: float  # the mean over every week, untouched weeks counting 0
    weeks: list[WeekProgress] = field(default_factory=list)


@dataclass(frozen=True)
class WeeklyProgress:
    course_id: int
    weeks: list[Week]
    students: list[StudentWeeks]


@dataclass(frozen=True)
class _Activity:
    user_id: str
    last_progress: datetime | None
    first_seen: datetime | None
    completed: bool


async def _students(session: AsyncSession, course_id: int) -> list[_Activity]:
    return [_Activity(*row) for row in (await session.execute(STUDENTS, {"course_id": course_id})).all()]


async def weekly_progress(session: AsyncSession, course_id: int) -> WeeklyProgress:
    """Every student's progress in every week of the course, students by id, weeks in order. A week is in
    progress once the student asked about one of its topics, even before its quiz."""
    params = {"course_id": course_id}
    weeks = (await session.execute(WEEKS, params)).all()
    touched = {
        (user_id, module_id): (status, progress, topics, best, last)
        for user_id, module_id, status, progress, topics, best, last in (await session.execute(TOUCHED, params)).all()
    }
    students = []
    for student in await _students(session, course_id):
        row = StudentWeeks(student.user_id, 0.0)
        for module_id, week, _title, total in weeks:
            status, progress, topics, best, last = touched.get((student.user_id, module_id), (None, 0, 0, None, None))
            status = status or ("in_progress" if topics else "not_started")
            row.weeks.append(
                WeekProgress(module_id, week, status, int(progress or 0), int(topics), int(total), best, last)
            )
        if weeks:
            row.overall_progress = round(sum(w.progress_percentage for w in row.weeks) / len(weeks), 2)
        students.append(row)
    return WeeklyProgress(course_id, [Week(m, w, t) for m, w, t, _ in weeks], students)


# Quizzes of the course a student failed at least :failures times and never passed.
FAILING = text(
    """
    SELECT r.user_id, q.quiz_id, q.title,
           count(*) FILTER (WHERE r.score < COALESCE(q.passing_score, 70)) AS failed,
           max(r.score) AS best_score
    FROM quiz_responses r
    JOIN quizzes q ON q.quiz_id = r.quiz_id
    WHERE q.course_id = :course_id
    GROUP BY r.user_id, q.quiz_id, q.title, q.passing_score
    HAVING count(*) FILTER (WHERE r.score < COALESCE(q.passing_score, 70)) >= :failures
       AND count(*) FILTER (WHERE r.score >= COALESCE(q.passing_score, 70)) = 0
    ORDER BY r.user_id, failed DESC, q.quiz_id
    """
)


@dataclass(frozen=True)
class FailedQuiz:
    quiz_id: str
    title: str
    failed_attempts: int
    best_score: int | None


@dataclass
class StuckStudent:
    user_id: str
    reasons: list[str]  # "no_progress" (for `inactive_days` or more), "failed_quiz" (`failed_attempts` or more)
    last_progress: datetime | None
    days_without_progress: int | None
    failed_quizzes: list[FailedQuiz] = field(default_factory=list)


async def stuck_students(
    session: AsyncSession,
    course_id: int,
    *,
    inactive_days: int = 7,
    failed_attempts: int = 3,
    now: datetime | None = None,
) -> list[StuckStudent]:
    """Students with no progress for `inactive_days` (unless they completed the course), or who failed a quiz
    `failed_attempts` times without passing it. Longest without progress first."""
    now = now or utcnow()
    students = {s.user_id: s for s in await _students(session, course_id)}
    stuck: dict[str, StuckStudent] = {}
    for s in students.values():
        since = s.last_progress or s.first_seen
        if s.completed or since is None:
            continue
        idle = now - since
        if idle >= timedelta(days=inactive_days):
            stuck[s.user_id] = StuckStudent(s.user_id, ["no_progress"], s.last_progress, idle.days)
    failing = (await session.execute(FAILING, {"course_id": course_id, "failures": failed_attempts})).all()
    for user_id, quiz_id, title, failed, best in failing:
        if user_id not in students:  # a teacher trying their own quiz
            continue
        student = stuck.get(user_id)
        if student is None:
            student = stuck[user_id] = StuckStudent(user_id, [], students[user_id].last_progress, None)
        if "failed_quiz" not in student.reasons:
            student.reasons.append("failed_quiz")
        student.failed_quizzes.append(FailedQuiz(quiz_id, title, int(failed), best))
    return sorted(stuck.values(), key=lambda s: (-(s.days_without_progress or -1), s.user_id))
