"""Courses: the list a person may see, and one full course (modules, topics, quizzes)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_teacher, current_user
from api.deps import get_session, get_state
from api.params import FieldId, PathId
from api.state import AppState
from db.models import Course, SourceFile
from ingestion.storage import open_storage
from tutor.courses import (
    CourseView,
    can_manage,
    create_course,
    full_course,
    list_courses,
    managed_module,
    managed_topic,
    reorder_modules,
    reorder_topics,
    visible_course,
    visible_topic,
)
from tutor.embed import CourseMetadataPatch
from tutor.identity import Principal

Status = Literal["draft", "active", "archived"]

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
    status: Status = "draft"


class CoursePatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = None
    status: Status | None = None
    metadata: CourseMetadataPatch | None = Field(
        None, description="course settings merged into the stored ones, e.g. the widget's allowed origins"
    )


class OrderIn(BaseModel):
    order: list[FieldId] = Field(description="every id, in the new order")


class ModulePatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = None
    learning_objectives: list[str] | None = None


class TopicPatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=500)
    content: str | None = Field(None, min_length=1)
    estimated_time: int | None = Field(None, ge=1)


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
async def edit_course(
    course_id: PathId,
    body: CoursePatch,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> CourseSummary:
    course = await visible_course(session, user, course_id, manage=True)
    changes = body.model_dump(exclude_unset=True)
    if "metadata" in changes:
        patch = changes.pop("metadata")
        course.metadata_ = {
            **(course.metadata_ or {}),
            **(body.metadata.changes() if patch is not None and body.metadata else {}),
        }
    for name, value in changes.items():
        setattr(course, name, value)
    await session.flush()
    return CourseSummary.of(course)


@router.delete("/api/courses/{course_id}", status_code=204, summary="Delete a course, its content, files and index")
async def remove_course(
    course_id: PathId,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    locations = (await session.execute(select(SourceFile.file_path).where(SourceFile.course_id == course_id))).scalars()
    storage = open_storage(state.settings)
    await session.delete(course)
    await session.flush()
    await asyncio.to_thread(state.vector_store().delete_course, course_id)
    for location in locations:
        await asyncio.to_thread(storage.delete, location or "")
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


@router.patch("/api/modules/{module_id}", summary="Edit a module (week)", response_model=dict[str, Any])
async def edit_module(
    module_id: PathId,
    body: ModulePatch,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    module = await managed_module(session, user, module_id)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(module, name, value)
    await session.flush()
    return {
        "id": module.id,
        "week": module.week,
        "title": module.title,
        "description": module.description,
        "learning_objectives": module.learning_objectives or [],
    }


@router.post("/api/modules/{module_id}/topics/reorder", summary="Reorder a module's topics", response_model=list[int])
async def reorder_module_topics(
    module_id: PathId,
    body: OrderIn,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[int]:
    await reorder_topics(session, await managed_module(session, user, module_id), body.order)
    return body.order


@router.get("/api/topics/{topic_id}", summary="One topic with its content", response_model=dict[str, Any])
async def read_topic(
    topic_id: PathId, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> dict[str, Any]:
    topic = await visible_topic(session, user, topic_id)
    return {
        "id": topic.id,
        "module_id": topic.module_id,
        "title": topic.title,
        "content": topic.content,
        "order_index": topic.order_index,
        "estimated_time": topic.estimated_time,
    }


@router.patch("/api/topics/{topic_id}", summary="Edit a topic", response_model=dict[str, Any])
async def edit_topic(
    topic_id: PathId,
    body: TopicPatch,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    topic = await managed_topic(session, user, topic_id)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(topic, name, value)
    await session.flush()
    return {
        "id": topic.id,
        "title": topic.title,
        "content": topic.content,
        "order_index": topic.order_index,
        "estimated_time": topic.estimated_time,
    }
