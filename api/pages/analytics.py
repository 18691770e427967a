"""Analytics in the console: progress per student and week (table and chart), scores per quiz, most-missed
questions, content gaps grouped by similarity, students who are stuck."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session
from api.pages.charts import bar_chart
from api.pages.render import render
from api.params import PathId
from api.web_session import WebSession, current_web_session, current_web_teacher
from tutor import analytics, course_insights, transcripts
from tutor.courses import visible_course
from tutor.identity import Principal
from tutor.quiz import service as quizzes

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
    table = await course_insights.progress_table(session, course_id)
    progress_chart = bar_chart(
        "Average progress per week",
        [(f"Week {w.week}", avg) for w, avg in zip(table.weeks, table.week_averages(), strict=True)],
        top=100,
        unit="%",
    )
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
    gaps = course_insights.group_gaps(await transcripts.content_gaps(session, course_id, 200))
    return render(
        request,
        "teach/analytics.html",
        web=web,
        user=user,
        course=course,
        table=table,
        progress_chart=progress_chart,
        score_charts=score_charts,
        missed=await analytics.most_missed(session, course_id, 20),
        module_of=module_of,
        gaps=gaps,
        stuck=await course_insights.stuck_students(session, course_id, table),
    )


def _buckets(quiz: analytics.QuizScores) -> list[tuple[int, int]]:
    counts = {b.low: b.count for b in quiz.buckets}
    return [(low, counts.get(low, 0)) for low in range(0, 100, 10)]
