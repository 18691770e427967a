"""Who struggles in a course: progress per student and week, stuck students, content gaps grouped by similarity."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tutor.identity import utcnow
from tutor.transcripts import ContentGap

# Everyone who studied the course: progress rows or chat messages; with their last activity.
_STUDENTS = text(
    """
    SELECT user_id, max(at) AS last_active FROM (
        SELECT up.user_id, up.last_accessed AS at FROM user_progress up WHERE up.course_id = :course_id
        UNION ALL
        SELECT ch.user_id, ch.timestamp FROM chat_history ch WHERE ch.course_id = :course_id
        UNION ALL
        SELECT r.user_id, r.submitted_at FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
          WHERE q.course_id = :course_id
    ) s GROUP BY user_id ORDER BY user_id
    """
)
_WEEKS = text("SELECT id, week, title FROM modules WHERE course_id = :course_id ORDER BY week")
_WEEK_CELLS = text(
    """
    SELECT up.user_id, up.module_id, up.progress_percentage, up.status
    FROM user_progress up
    WHERE up.course_id = :course_id AND up.module_id IS NOT NULL AND up.topic_id IS NULL
    """
)
# Per student and quiz: attempts that failed since the last pass (or ever, with no pass).
_FAILED_STREAKS = text(
    """
    SELECT r.user_id, q.title, count(*) AS failed
    FROM quiz_responses r JOIN quizzes q ON q.quiz_id = r.quiz_id
    WHERE q.course_id = :course_id AND r.score < COALESCE(q.passing_score, 70)
      AND r.submitted_at > COALESCE((
          SELECT max(p.submitted_at) FROM quiz_responses p
          WHERE p.quiz_id = r.quiz_id AND p.user_id = r.user_id AND p.score >= COALESCE(q.passing_score, 70)
      ), '-infinity')
    GROUP BY r.user_id, q.title
    HAVING count(*) >= :failures
    """
)


@dataclass(frozen=True)
class Week:
    module_id: int
    week: int
    title: str


@dataclass(frozen=True)
class StudentWeeks:
    user_id: str
    last_active: datetime | None
    cells: list[int | None]  # percent per week, in the table's week order; None: not started

    @property
    def average(self) -> float:
        return sum(c or 0 for c in self.cells) / len(self.cells) if self.cells else 0.0


@dataclass(frozen=True)
class ProgressTable:
    weeks: list[Week]
    students: list[StudentWeeks]

    def week_averages(self) -> list[float]:
        if not self.students:
            return [0.0 for _ in self.weeks]
        return [sum(s.cells[i] or 0 for s in self.students) / len(self.students) for i in range(len(self.weeks))]


async def progress_table(session: AsyncSession, course_id: int) -> ProgressTable:
    params = {"course_id": course_id}
    weeks = [Week(*row) for row in (await session.execute(_WEEKS, params)).all()]
    column = {w.module_id: i for i, w in enumerate(weeks)}
    cells: dict[str, list[int | None]] = {}
    for user_id, module_id, percent, _status in (await session.execute(_WEEK_CELLS, params)).all():
        row = cells.setdefault(user_id, [None] * len(weeks))
        if module_id in column:
            row[column[module_id]] = int(percent or 0)
    students = [
        StudentWeeks(user_id, last, cells.get(user_id, [None] * len(weeks)))
        for user_id, last in (await session.execute(_STUDENTS, params)).all()
    ]
    return ProgressTable(weeks, students)


@dataclass(frozen=True)
class StuckStudent:
    user_id: str
    last_active: datetime | None
    reasons: list[str]


async def stuck_students(
    session: AsyncSession,
    course_id: int,
    table: ProgressTable,
    *,
    idle_days: int = 7,
    failures: int = 2,
    now: datetime | None = None,
) -> list[StuckStudent]:
    """Students with no activity for `idle_days` who have not finished, or `failures` failed attempts in a row."""
    now = now or utcnow()
    reasons: dict[str, list[str]] = {}
    for s in table.students:
        unfinished = any((c or 0) < 100 for c in s.cells) or not s.cells
        if s.last_active is not None and now - s.last_active > timedelta(days=idle_days) and unfinished:
            reasons.setdefault(s.user_id, []).append(f"no activity for {(now - s.last_active).days} days")
    rows = (await session.execute(_FAILED_STREAKS, {"course_id": course_id, "failures": failures})).all()
    for user_id, title, failed in rows:
        reasons.setdefault(user_id, []).append(f"failed “{title}” {failed} times in a row")
    last = {s.user_id: s.last_active for s in table.students}
    return [StuckStudent(user_id, last.get(user_id), why) for user_id, why in sorted(reasons.items())]


@dataclass
class GapGroup:
    """Questions the course could not answer, alike enough to be one missing piece of content."""

    questions: list[ContentGap] = field(default_factory=list)

    @property
    def asked(self) -> int:
        return sum(q.asked for q in self.questions)

    @property
    def example(self) -> str:
        return self.questions[0].question


_WORD = re.compile(r"[a-z0-9]{3,}")
_COMMON = {"what", "how", "why", "the", "does", "and", "are", "is", "can", "who", "when", "which", "about", "with"}


def _words(question: str) -> set[str]:
    words = (w for w in _WORD.findall(question.lower()) if w not in _COMMON)
    return {w[:-1] if w.endswith("s") and len(w) > 4 else w for w in words}  # "holes" and "hole" are one word


def group_gaps(gaps: list[ContentGap], *, similarity: float = 0.6) -> list[GapGroup]:
    """Greedy grouping by shared content words (overlap coefficient: shared / the shorter question's words), so
    "what is a black hole" and "black holes? any good pictures of them" land together."""
    groups: list[tuple[set[str], GapGroup]] = []
    for gap in gaps:
        words = _words(gap.question)
        for seen, group in groups:
            shorter = min(len(words), len(seen))
            if shorter and len(words & seen) / shorter >= similarity:
                group.questions.append(gap)
                seen |= words
                break
        else:
            groups.append((set(words), GapGroup([gap])))
    return sorted((g for _, g in groups), key=lambda g: -g.asked)
