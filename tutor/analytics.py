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
    return CourseProgress(
        course_id, user_id, head.course_title, int(head.total_modules), int(head.completed_modules), overall, modules
    )


SCORE_BUCKETS = text(
    """
    SELECT q.quiz_id, q.title, width_bucket(LEAST(r.score, 99), 0, 100, 10) AS bucket, count(*) AS n,
           round(avg(r.score), 1) AS mean
    FROM quizzes q JOIN quiz_responses r ON r.quiz_id = q.quiz_id
    WHERE q.course_id = :course_id AND q.made_for IS NULL
    GROUP BY q.quiz_id, q.title, bucket
    ORDER BY q.quiz_id, bucket
    """
)

# Each graded answer is judged against the question as it was asked (the attempt's snapshot) and counted for that
# question's row, by its id, which a teacher's reordering does not change; an answer's number is only its position
# at the time. Responses without a snapshot (before 0004) count against the current questions by number. Deleted
# questions, and the students' own practice and review quizzes, are left out.
MISSED = text(
    """
    WITH graded AS (
        SELECT r.quiz_id, (e.q ->> 'question_id')::int AS question_id, e.q ->> 'question_text' AS question_text,
               COALESCE(r.answers ->> (e.q ->> 'question_number'), '') <> (e.q ->> 'correct_answer') AS missed
        FROM quizzes q
        JOIN quiz_responses r ON r.quiz_id = q.quiz_id
        JOIN quiz_attempts a ON a.response_id = r.id
        CROSS JOIN LATERAL jsonb_array_elements(a.questions) e(q)
        WHERE q.course_id = :course_id AND q.made_for IS NULL AND a.questions IS NOT NULL
        UNION ALL
        SELECT r.quiz_id, qq.id, qq.question_text,
               COALESCE(r.answers ->> qq.question_number::text, '') <> qq.correct_answer
        FROM quizzes q
        JOIN quiz_responses r ON r.quiz_id = q.quiz_id
        JOIN quiz_questions qq ON qq.quiz_id = q.quiz_id
        WHERE q.course_id = :course_id AND q.made_for IS NULL
          AND NOT EXISTS (SELECT 1 FROM quiz_attempts a WHERE a.response_id = r.id AND a.questions IS NOT NULL)
    )
    SELECT cur.quiz_id, cur.question_number, cur.question_text, cur.correct_answer,
           count(*) AS attempts, count(*) FILTER (WHERE g.missed) AS missed
    FROM graded g
    JOIN quiz_questions cur ON cur.quiz_id = g.quiz_id
     AND (cur.id = g.question_id OR (g.question_id IS NULL AND cur.question_text = g.question_text))
    GROUP BY cur.id, cur.quiz_id, cur.question_number, cur.question_text, cur.correct_answer
    HAVING count(*) FILTER (WHERE g.missed) > 0
    ORDER BY missed DESC, attempts DESC, cur.quiz_id, cur.question_number
    LIMIT :limit
    """
)

STUDENTS = text(
    """
    SELECT up.user_id, up.status, up.progress_percentage, up.last_accessed
    FROM user_progress up
    WHERE up.course_id = :course_id AND up.module_id IS NULL AND up.topic_id IS NULL
    ORDER BY up.user_id
    """
)


@dataclass(frozen=True)
class ScoreBucket:
    low: int  # the bucket covers scores low..low+9 (the last one 90..100)
    count: int


@dataclass(frozen=True)
class QuizScores:
    quiz_id: str
    title: str
    attempts: int
    buckets: list[ScoreBucket]


@dataclass(frozen=True)
class MissedQuestion:
    quiz_id: str
    question_number: int
    question_text: str
    correct_answer: str
    attempts: int
    missed: int


@dataclass(frozen=True)
class StudentProgress:
    user_id: str
    status: str | None
    progress_percentage: int | None
    last_accessed: datetime | None


async def score_distribution(session: AsyncSession, course_id: int) -> list[QuizScores]:
    by_quiz: dict[str, QuizScores] = {}
    for quiz_id, title, bucket, n, _mean in (await session.execute(SCORE_BUCKETS, {"course_id": course_id})).all():
        entry = by_quiz.setdefault(quiz_id, QuizScores(quiz_id, title, 0, []))
        entry.buckets.append(ScoreBucket((int(bucket) - 1) * 10, int(n)))
        by_quiz[quiz_id] = QuizScores(quiz_id, title, entry.attempts + int(n), entry.buckets)
    return list(by_quiz.values())


async def most_missed(session: AsyncSession, course_id: int, limit: int = 20) -> list[MissedQuestion]:
    rows = (await session.execute(MISSED, {"course_id": course_id, "limit": limit})).all()
    return [MissedQuestion(*row) for row in rows]


async def students(session: AsyncSession, course_id: int) -> list[StudentProgress]:
    return [StudentProgress(*row) for row in (await session.execute(STUDENTS, {"course_id": course_id})).all()]
