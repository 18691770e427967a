"""Analytics: a student's progress (their own, or any for the course's teacher); the teacher's views of a course."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_teacher, current_user
from api.deps import get_session
from api.params import PathId, QueryId
from tutor.analytics import (
    CourseProgress,
    MissedQuestion,
    QuizScores,
    StudentProgress,
    course_progress,
    most_missed,
    score_distribution,
    students,
)
from tutor.courses import can_manage, visible_course
from tutor.errors import NotFoundError
from tutor.gaps import GapGroup, grouped_content_gaps
from tutor.identity import Principal
from tutor.overview import CourseSummary, course_summaries
from tutor.students import StuckStudent, WeeklyProgress, stuck_students, weekly_progress

router = APIRouter(tags=["analytics"])


@router.get("/api/analytics/progress", response_model=CourseProgress, summary="Progress of a student in a course")
async def progress(
    course_id: QueryId,
    user_id: str | None = Query(None, description="default: yourself; another student only for the teacher"),
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> CourseProgress:
    course = await visible_course(session, user, course_id)
    target = user_id or user.user_id
    if target != user.user_id and not can_manage(user, course):
        raise NotFoundError("user_not_found", f"no student {target} in this course")
    return await course_progress(session, course_id, target)


@router.get(
    "/api/analytics/courses/{course_id}/scores",
    response_model=list[QuizScores],
    summary="Score distribution per quiz (the course's teacher)",
)
async def scores(
    course_id: PathId, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> list[QuizScores]:
    await visible_course(session, user, course_id, manage=True)
    return await score_distribution(session, course_id)


@router.get(
    "/api/analytics/courses/{course_id}/missed-questions",
    response_model=list[MissedQuestion],
    summary="The questions students miss most (the course's teacher)",
)
async def missed_questions(
    course_id: PathId,
    limit: int = Query(20, ge=1, le=100),
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[MissedQuestion]:
    await visible_course(session, user, course_id, manage=True)
    return await most_missed(session, course_id, limit)


@router.get(
    "/api/analytics/courses/{course_id}/students",
    response_model=list[StudentProgress],
    summary="Every student's course-level progress (the course's teacher)",
)
async def course_students(
    course_id: PathId, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> list[StudentProgress]:
    await visible_course(session, user, course_id, manage=True)
    return await students(session, course_id)


@router.get(
    "/api/analytics/courses",
    response_model=list[CourseSummary],
    summary="Your courses with counts of weeks, topics, quizzes, files, students and the last activity (teachers)",
)
async def summaries(
    limit: int = Query(50, ge=1, le=200),
    user: Principal = Depends(current_teacher),
    session: AsyncSession = Depends(get_session),
) -> list[CourseSummary]:
    return await course_summaries(session, user, limit=limit)


@router.get(
    "/api/analytics/courses/{course_id}/weekly-progress",
    response_model=WeeklyProgress,
    summary="Every student's progress in every week (the course's teacher)",
)
async def weekly(
    course_id: PathId, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> WeeklyProgress:
    await visible_course(session, user, course_id, manage=True)
    return await weekly_progress(session, course_id)


@router.get(
    "/api/analytics/courses/{course_id}/stuck-students",
    response_model=list[StuckStudent],
    summary="Students without progress for some days, or failing a quiz again and again (the course's teacher)",
)
async def stuck(
    course_id: PathId,
    inactive_days: int = Query(7, ge=1, le=3650, description="no progress for this many days"),
    failed_attempts: int = Query(3, ge=1, le=1000, description="failed a quiz this many times without passing it"),
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[StuckStudent]:
    await visible_course(session, user, course_id, manage=True)
    return await stuck_students(session, course_id, inactive_days=inactive_days, failed_attempts=failed_attempts)


@router.get(
    "/api/analytics/courses/{course_id}/content-gap-groups",
    response_model=list[GapGroup],
    summary="Questions the course could not answer, similar wordings grouped, most asked first (the course's teacher)",
)
async def gap_groups(
    course_id: PathId,
    limit: int = Query(50, ge=1, le=200),
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[GapGroup]:
    await visible_course(session, user, course_id, manage=True)
    return await grouped_content_gaps(session, course_id, limit)
