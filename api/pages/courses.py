"""The console's course list: status, counts and last activity; create, publish, unpublish, archive, delete."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session, get_state
from api.pages.render import redirect, render
from api.params import PathId
from api.state import AppState
from api.web_session import WebSession, csrf_protect, current_web_session, current_web_teacher
from ingestion.course_edits import remove_course
from ingestion.storage import open_storage
from tutor.course_overview import deletion_summary, managed_courses, set_status
from tutor.courses import create_course, visible_course
from tutor.errors import TutorError
from tutor.identity import Principal

router = APIRouter(include_in_schema=False)

# What each action button does to a course's status, and the words it is shown with.
ACTIONS = {"publish": "active", "unpublish": "draft", "archive": "archived"}


@router.get("/teach")
async def course_list(
    request: Request,
    created: int | None = None,
    deleted: str | None = None,
    user: Principal = Depends(current_web_teacher),
    web: WebSession = Depends(current_web_session),
    session: AsyncSession = Depends(get_session),
) -> Response:
    courses = await managed_courses(session, user)
    return render(request, "teach/courses.html", web=web, user=user, courses=courses, created=created, deleted=deleted)


@router.post("/teach/courses")
async def new_course(
    title: str = Form("", max_length=500),
    description: str = Form("", max_length=20_000),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    if not title.strip():
        raise TutorError("title_required", "a course needs a title", status=422)
    course = await create_course(
        session, user, title=title.strip(), description=description.strip() or None, status="draft"
    )
    return redirect(f"/teach/courses/{course.course_id}?created=1")


@router.post("/teach/courses/{course_id}/status")
async def change_status(
    course_id: PathId,
    action: str = Form(...),
    back: str = Form("list"),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    if action not in ACTIONS:
        raise TutorError("invalid_action", f"the action is one of {', '.join(ACTIONS)}", status=422)
    await set_status(course, ACTIONS[action])
    return redirect(f"/teach/courses/{course_id}" if back == "course" else "/teach")


@router.get("/teach/courses/{course_id}/delete")
async def confirm_delete(
    request: Request,
    course_id: PathId,
    user: Principal = Depends(current_web_teacher),
    web: WebSession = Depends(current_web_session),
    session: AsyncSession = Depends(get_session),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    return render(request, "teach/delete.html", web=web, user=user, summary=await deletion_summary(session, course))


@router.post("/teach/courses/{course_id}/delete")
async def delete_course(
    course_id: PathId,
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    title = course.title
    await remove_course(session, course, open_storage(state.settings), state.vector_store())
    await session.commit()
    return redirect(f"/teach?deleted={quote(title)}")
