"""Spaced review for a student: what is due now, and how well they know each topic of a course."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_clock, get_session
from api.params import QueryId
from tutor.courses import visible_course
from tutor.identity import Principal
from tutor.review.clock import Clock
from tutor.review.due import DueSummary, due_summary
from tutor.review.mastery import TopicMasteryOf, course_mastery

router = APIRouter(tags=["review"])


class ReviewOut(BaseModel):
    due: DueSummary
    mastery: list[TopicMasteryOf]


@router.get("/api/review", response_model=ReviewOut, summary="Your reviews due and your mastery per topic")
async def my_review(
    course_id: QueryId,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    clock: Clock = Depends(get_clock),
) -> ReviewOut:
    await visible_course(session, user, course_id)
    now = clock.now()
    return ReviewOut(
        due=await due_summary(session, user_id=user.user_id, course_id=course_id, now=now, with_next=True),
        mastery=await course_mastery(session, course_id=course_id, now=now, user_id=user.user_id),
    )
