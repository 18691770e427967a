"""Courses: the list a person may see, and one full course (modules, topics, quizzes)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_teacher, current_user
from api.deps import get_session, get_state
from api.params import FieldId, PathId
from api.state import AppState
from db.models import Course, Module, Topic
from ingestion import files
from ingestion.storage import open_storage
from tutor.courses import (
    CourseEdit,
    CourseStatus,
    CourseView,
    ModuleEdit,
    TopicEdit,
    can_manage,
    create_course,
    edit_course,
    edit_module,
    edit_topic,
    full_course,
    list_courses,
    managed_module,
    reorder_modules,
    reorder_topics,
    visible_course,
    visible_topic,
)
from tutor.identity import Principal

router = APIRouter(tags=["courses"])


class CourseSummary(BaseModel):
    course_id: int
    title: str
    description: str | None
    status: str | None
    created_by: str | None
    created_at: datetime | None

    @classmethod
    def of(cls, c: Course) -> CourseSummary:
        return cls(
            course_id=c.course_id,
            title=c.title,
            description=c.description,
            status=c.status,
            created_by=c.created_by,
            created_at=c.created_at,
        )


class CourseIn(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    description: str | None = None
    status: CourseStatus = "draft"


class OrderIn(BaseModel):
    order: list[FieldId] = Field(description="every id, in the new order")


class ModuleOut(BaseModel):
    id: int
    week: int
    title: str
    description: str | None
    learning_objectives: list[str]

    @classmethod
    def of(cls, m: Module) -> ModuleOut:
        return cls(
            id=m.id,
            week=m.week,
            title=m.title,
            description=m.description,
            learning_objectives=list(m.learning_objectives or []),
        )


class TopicOut(BaseModel):
    id: int
    title: str
    content: str
    order_index: int | None
    estimated_time: int | None

    @classmethod
    def of(cls, t: Topic) -> TopicOut:
        return cls(
            id=t.id, title=t.title, content=t.content, order_index=t.order_index, estimated_time=t.estimated_time
        )


class TopicRead(TopicOut):
    module_id: int

    @classmethod
    def of(cls, t: Topic) -> TopicRead:
        return cls(**TopicOut.of(t).model_dump(), module_id=t.module_id)


@router.get("/api/courses", response_model=list[CourseSummary], summary="Your courses (teachers) or active ones")
async def courses(
    limit: int = Query(50, ge=1, le=200),
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[CourseSummary]:
    return [CourseSummary.of(c) for c in await list_courses(session, user, limit=limit)]


@router.get(
    "/api/courses/{course_id}",
    response_model=CourseView,
    summary="The full course: modules by week, topics in order, quizzes with questions",
)
async def course(
    course_id: PathId, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> CourseView:
    found = await visible_course(session, user, course_id)
    return await full_course(session, found, with_answers=can_manage(user, found))


@router.post("/api/courses", response_model=CourseSummary, status_code=201, summary="Create an empty course")
async def new_course(
    body: CourseIn, user: Principal = Depends(current_teacher), session: AsyncSession = Depends(get_session)
) -> CourseSummary:
    return CourseSummary.of(await create_course(session, user, **body.model_dump()))


@router.patch("/api/courses/{course_id}", response_model=CourseSummary, summary="Edit title, description, status")
async def patch_course(
    course_id: PathId,
    body: CourseEdit,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> CourseSummary:
    return CourseSummary.of(await edit_course(session, user, course_id, body))


@router.delete("/api/courses/{course_id}", status_code=204, summary="Delete a course, its content, files and index")
async def remove_course(
    course_id: PathId,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    await files.delete_course(
        session, user, course_id, storage=open_storage(state.settings), index=state.vector_store()
    )
    return Response(status_code=204)


@router.post("/api/courses/{course_id}/modules/reorder", response_model=CourseView, summary="Reorder weeks")
async def reorder_weeks(
    course_id: PathId,
    body: OrderIn,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> CourseView:
    course = await visible_course(session, user, course_id, manage=True)
    await reorder_modules(session, course, body.order)
    return await full_course(session, course, with_answers=True)


@router.patch("/api/modules/{module_id}", summary="Edit a module (week)", response_model=ModuleOut)
async def patch_module(
    module_id: PathId,
    body: ModuleEdit,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> ModuleOut:
    return ModuleOut.of(await edit_module(session, user, module_id, body))


@router.post("/api/modules/{module_id}/topics/reorder", summary="Reorder a module's topics", response_model=list[int])
async def reorder_module_topics(
    module_id: PathId,
    body: OrderIn,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[int]:
    await reorder_topics(session, await managed_module(session, user, module_id), body.order)
    return body.order


@router.get("/api/topics/{topic_id}", summary="One topic with its content", response_model=TopicRead)
async def read_topic(
    topic_id: PathId, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> TopicRead:
    return TopicRead.of(await visible_topic(session, user, topic_id))


@router.patch("/api/topics/{topic_id}", summary="Edit a topic", response_model=TopicOut)
async def patch_topic(
    topic_id: PathId,
    body: TopicEdit,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> TopicOut:
    return TopicOut.of(await edit_topic(session, user, topic_id, body))
