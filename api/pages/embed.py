"""The widget's embed settings as a console page: the snippet to paste, the pages allowed to embed, a new key."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session
from api.pages.render import redirect, render
from api.params import PathId
from api.web_session import WebSession, csrf_protect, current_web_session, current_web_teacher
from tutor.courses import visible_course
from tutor.embed_settings import embed_settings, parse_origins, rotate_key, set_allowed_origins
from tutor.identity import Principal

router = APIRouter(include_in_schema=False)


@router.get("/embed/{course_id}")
async def old_embed_page(course_id: PathId) -> Response:
    """The embed page moved into the console (signed in by session, no token to paste)."""
    return redirect(f"/teach/courses/{course_id}/embed")


@router.get("/teach/courses/{course_id}/embed")
async def embed_page(
    request: Request,
    course_id: PathId,
    saved: str | None = None,
    user: Principal = Depends(current_web_teacher),
    web: WebSession = Depends(current_web_session),
    session: AsyncSession = Depends(get_session),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    settings = embed_settings(course)
    return render(
        request,
        "teach/embed.html",
        web=web,
        user=user,
        course=course,
        embed=settings,
        snippet=settings.snippet(str(request.base_url)),
        saved=saved,
    )


@router.post("/teach/courses/{course_id}/embed/origins")
async def save_origins(
    course_id: PathId,
    origins: str = Form("", max_length=20_000),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    set_allowed_origins(course, parse_origins(origins.splitlines()))
    return redirect(f"/teach/courses/{course_id}/embed?saved=origins")


@router.post("/teach/courses/{course_id}/embed/rotate")
async def new_key(
    course_id: PathId,
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    rotate_key(await visible_course(session, user, course_id, manage=True))
    return redirect(f"/teach/courses/{course_id}/embed?saved=key")
