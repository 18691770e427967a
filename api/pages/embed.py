"""The widget's embed settings as a console page: the snippet to paste, the pages allowed to embed, a new key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session
from api.pages.render import redirect, render
from api.params import PathId
from api.web_session import WebSession, csrf_protect, current_web_session, current_web_teacher
from db.models import Course
from tutor.courses import visible_course
from tutor.embed import EmbedSettings, check_origin, embed_settings, new_embed_key
from tutor.errors import TutorError
from tutor.identity import Principal

router = APIRouter(include_in_schema=False)
MAX_ORIGINS = 50


def _store(course: Course, **changes: Any) -> EmbedSettings:
    meta = {**(course.metadata_ or {}), **changes}
    if not meta.get("embed_key"):
        meta["embed_key"] = new_embed_key()
    course.metadata_ = meta
    return embed_settings(meta)


def _origins(text: str) -> list[str]:
    origins = []
    for line in text.splitlines():
        if line.strip():
            try:
                origins.append(check_origin(line.strip()))
            except ValueError as exc:
                raise TutorError("invalid_origin", str(exc), status=422) from None
    if len(origins) > MAX_ORIGINS:
        raise TutorError("too_many_origins", f"at most {MAX_ORIGINS} origins", status=422)
    return list(dict.fromkeys(origins))


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
    embed = embed_settings(course.metadata_)
    if not embed.embed_key:
        embed = _store(course)
    base = str(request.base_url).rstrip("/")
    snippet = f'<script src="{base}/widget.js" data-course="{course_id}" data-key="{embed.embed_key}" async></script>'
    return render(
        request, "teach/embed.html", web=web, user=user, course=course, embed=embed, snippet=snippet, saved=saved
    )


@router.post("/teach/courses/{course_id}/embed/origins")
async def save_origins(
    course_id: PathId,
    origins: str = Form("", max_length=20_000),
    signed_only: str | None = Form(None),
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    _store(course, allowed_origins=_origins(origins), require_signed_identity=signed_only == "on")
    return redirect(f"/teach/courses/{course_id}/embed?saved=origins")


@router.post("/teach/courses/{course_id}/embed/rotate")
async def new_key(
    course_id: PathId,
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
) -> Response:
    _store(await visible_course(session, user, course_id, manage=True), embed_key=new_embed_key())
    return redirect(f"/teach/courses/{course_id}/embed?saved=key")
