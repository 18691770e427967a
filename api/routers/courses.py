"""Courses: the list a person may see, and one full course (modules, topics, quizzes)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_session
from tutor.courses import CourseView, can_manage, full_course, list_courses, visible_course
from tutor.identity import Principal

router = APIRouter(tags=["courses"])


class CourseSummary(BaseModel):
    course_id: int
    title: str
    description: str | None
    status: str | None
    created_by: str | None
    created_at: datetime | None


@router.get("/api/courses", response_model=list[CourseSummary], summary="Your courses (teachers) or active ones")
async def courses(
    limit: int = Query(50, ge=1, le=200),
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[CourseSummary]:
    return [
        CourseSummary(course_id=c.course_id, title=c.title, description=c.description, status=c.status,
                      created_by=c.created_by, created_at=c.created_at)
        for c in await list_courses(session, user, limit=limit)
    ]  # fmt: skip


@router.get(
    "/api/courses/{course_id}",
    response_model=CourseView,
    summary="The full course: modules by week, topics in order, quizzes with questions",
)
async def course(
    course_id: int, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> CourseView:
    found = await visible_course(session, user, course_id)
    return await full_course(session, found, with_answers=can_manage(user, found))
