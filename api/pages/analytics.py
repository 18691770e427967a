"""Analytics in the console: progress per student and week (table and chart), scores per quiz, most-missed
questions, content gaps grouped by similarity, students who are stuck."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session
from api.pages.charts import bar_chart
from api.pages.render import render
from api.params import PathId
from api.web_session import WebSession, current_web_session, current_web_teacher
from tutor import analytics
from tutor.courses import visible_course
from tutor.gaps import grouped_content_gaps
from tutor.identity import Principal
from tutor.lti.roster import has_roster
from tutor.quiz import service as quizzes
from tutor.students import WeekProgress, stuck_students, weekly_progress

router = APIRouter(include_in_schema=False)


@router.get("/teach/courses/{course_id}/analytics")
async def analytics_page(
    request: Request,
    course_id: PathId,
    user: Principal = Depends(current_web_teacher),
    web: WebSession = Depends(current_web_session),
    session: AsyncSession = Depends(get_session),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    table = await weekly_progress(session, course_id)
    averages = [
        sum(s.weeks[i].progress_percentage for s in table.students) / len(table.students) if table.students else 0.0
        for i in range(len(table.weeks))
    ]
    progress_chart = bar_chart(
        "Average progress per week",
        [(f"Week {w.week}", avg) for w, avg in zip(table.weeks, averages, strict=True)],
        top=100,
        unit="%",
    )
    base = f"/teach/courses/{course_id}/transcripts?student="
    # The grid's cells as text here: 200 students x their weeks in template logic cost ~90 ms to render.
    progress_rows = [
        (s.user_id, base + quote(s.user_id, safe=""), [_cell(w) for w in s.weeks], f"{s.overall_progress:.0f}%")
        for s in table.students
    ]
    scores = await analytics.score_distribution(session, course_id)
    score_charts = [
        (
            quiz,
            bar_chart(
                f"Scores in {quiz.title}",
                [(f"{low}-{low + 9 if low < 90 else 100}", float(n)) for low, n in _buckets(quiz)],
            ),
        )
        for quiz in scores
    ]
    module_of = {quiz.quiz_id: quiz.module_id for quiz, _ in await quizzes.course_quizzes(session, course_id)}
    gaps = await grouped_content_gaps(session, course_id)
    return render(
        request,
        "teach/analytics.html",
        web=web,
        user=user,
        course=course,
        table=table,
        progress_rows=progress_rows,
        progress_chart=progress_chart,
        score_charts=score_charts,
        missed=await analytics.most_missed(session, course_id, 20),
        module_of=module_of,
        gaps=gaps,
        stuck=await stuck_students(session, course_id),
        lms_roster=await has_roster(session, course_id),
    )


def _cell(week: WeekProgress) -> str:
    if week.status == "not_started":
        return "not started"
    quiz = f", quiz {week.best_score}%" if week.best_score is not None else ""
    return f"{week.progress_percentage}%{quiz}"


def _buckets(quiz: analytics.QuizScores) -> list[tuple[int, int]]:
    counts = {b.low: b.count for b in quiz.buckets}
    return [(low, counts.get(low, 0)) for low in range(0, 100, 10)]
