"""A course's students as its teacher sees them: progress week by week, and who is stuck."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tutor.identity import utcnow

# The course's students: anyone with progress, a chat message or a quiz attempt in it, except teachers and admins
# (a teacher trying out their own course is not a student of it).
STUDENTS_CTE = """
    students AS (
        SELECT s.user_id FROM (
            SELECT up.user_id FROM user_progress up WHERE up.course_id = :course_id
            UNION SELECT ch.user_id FROM chat_history ch WHERE ch.course_id = :course_id AND ch.message_type = 'user'
            UNION SELECT r.user_id FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
                  WHERE q.course_id = :course_id
        ) s JOIN users u ON u.user_id = s.user_id
        WHERE COALESCE(u.role, 'student') NOT IN ('teacher', 'admin')
    )
"""

# One row per student and week. A week is in progress once the student asked about one of its topics (the chat
# writes topic rows) even before its quiz (which writes the week's row).
WEEKLY = text(
    "WITH"
    + STUDENTS_CTE
    + """,
    weeks AS (
        SELECT m.id, m.week, m.title, (SELECT count(*) FROM topics t WHERE t.module_id = m.id) AS topics_total
        FROM modules m WHERE m.course_id = :course_id
    ),
    rows AS (
        SELECT up.user_id, up.module_id,
               max(up.status) FILTER (WHERE up.topic_id IS NULL) AS status,
               max(up.progress_percentage) FILTER (WHERE up.topic_id IS NULL) AS progress,
               count(up.topic_id) AS topics_touched,
               max(up.last_accessed) AS last_accessed
        FROM user_progress up
        WHERE up.course_id = :course_id AND up.module_id IS NOT NULL
        GROUP BY up.user_id, up.module_id
    ),
    best AS (
        SELECT r.user_id, q.module_id, max(r.score) AS best_score
        FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
        WHERE q.course_id = :course_id AND q.module_id IS NOT NULL
        GROUP BY r.user_id, q.module_id
    )
    SELECT s.user_id, w.id, w.week, w.title,
           COALESCE(rows.status, CASE WHEN rows.topics_touched > 0 THEN 'in_progress' ELSE 'not_started' END),
           COALESCE(rows.progress, 0), COALESCE(rows.topics_touched, 0), w.topics_total, best.best_score,
           rows.last_accessed
    FROM students s
    CROSS JOIN weeks w
    LEFT JOIN rows ON rows.user_id = s.user_id AND rows.module_id = w.id
    LEFT JOIN best ON best.user_id = s.user_id AND best.module_id = w.id
    ORDER BY s.user_id, w.week
    """
)

WEEKS = text("SELECT id, week, title FROM modules WHERE course_id = :course_id ORDER BY week")


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


async def weekly_progress(session: AsyncSession, course_id: int) -> WeeklyProgress:
    """Every student's progress in every week of the course, students by id, weeks in order."""
    params = {"course_id": course_id}
    weeks = [Week(*row) for row in (await session.execute(WEEKS, params)).all()]
    by_student: dict[str, StudentWeeks] = {}
    for user_id, module_id, week, _title, status, progress, touched, total, best, last in (
        await session.execute(WEEKLY, params)
    ).all():
        student = by_student.setdefault(user_id, StudentWeeks(user_id, 0.0))
        student.weeks.append(WeekProgress(module_id, week, status, int(progress), int(touched), int(total), best, last))
    for student in by_student.values():
        student.overall_progress = round(sum(w.progress_percentage for w in student.weeks) / len(weeks), 2)
    return WeeklyProgress(course_id, weeks, list(by_student.values()))


# Per student: the last time they made progress (a topic or week row written, a quiz submitted), when they first
# showed up (a student who never progressed is measured from then), and whether they completed the course.
ACTIVITY = text(
    "WITH"
    + STUDENTS_CTE
    + """
    SELECT s.user_id,
           GREATEST(
               (SELECT max(up.last_accessed) FROM user_progress up
                 WHERE up.user_id = s.user_id AND up.course_id = :course_id),
               (SELECT max(r.submitted_at) FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
                 WHERE r.user_id = s.user_id AND q.course_id = :course_id)
           ) AS last_progress,
           (SELECT min(ch.timestamp) FROM chat_history ch
             WHERE ch.user_id = s.user_id AND ch.course_id = :course_id) AS first_seen,
           EXISTS (SELECT 1 FROM user_progress up WHERE up.user_id = s.user_id AND up.course_id = :course_id
                    AND up.module_id IS NULL AND up.topic_id IS NULL AND up.status = 'completed') AS completed
    FROM students s
    ORDER BY s.user_id
    """
)

# Quizzes a student failed at least :failures times and never passed.
FAILING = text(
    "WITH"
    + STUDENTS_CTE
    + """
    SELECT r.user_id, q.quiz_id, q.title,
           count(*) FILTER (WHERE r.score < COALESCE(q.passing_score, 70)) AS failed,
           max(r.score) AS best_score
    FROM quiz_responses r
    JOIN quizzes q ON q.quiz_id = r.quiz_id
    JOIN students s ON s.user_id = r.user_id
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
    params = {"course_id": course_id}
    last: dict[str, datetime | None] = {}
    stuck: dict[str, StuckStudent] = {}
    for user_id, last_progress, first_seen, completed in (await session.execute(ACTIVITY, params)).all():
        last[user_id] = last_progress
        since = last_progress or first_seen
        if completed or since is None:
            continue
        idle = now - since
        if idle >= timedelta(days=inactive_days):
            stuck[user_id] = StuckStudent(user_id, ["no_progress"], last_progress, idle.days)
    failing = (await session.execute(FAILING, {**params, "failures": failed_attempts})).all()
    for user_id, quiz_id, title, failed, best in failing:
        student = stuck.get(user_id)
        if student is None:
            student = stuck[user_id] = StuckStudent(user_id, [], last.get(user_id), None)
        if "failed_quiz" not in student.reasons:
            student.reasons.append("failed_quiz")
        student.failed_quizzes.append(FailedQuiz(quiz_id, title, int(failed), best))
    return sorted(stuck.values(), key=lambda s: (-(s.days_without_progress or -1), s.user_id))
