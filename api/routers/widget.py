"""The embeddable widget: its script, the teacher's embed settings and page, and visitor sessions."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_session, get_state
from api.params import FieldId, PathId
from api.ratelimit import count_new_visitor
from api.routers.assets import static_file
from api.state import AppState
from db.models import Course
from tutor.courses import visible_course
from tutor.embed import EmbedSettings, Origin, embed_settings, new_embed_key
from tutor.errors import NotFoundError, TutorError
from tutor.identity import AuthError, Principal, mint_widget_token, sign_in
from tutor.visitors import admit_visitor

router = APIRouter(tags=["widget"])
STATIC = Path(__file__).resolve().parents[1] / "static"
WIDGET_TOKEN_TTL_S = 2 * 3600


class EmbedOut(BaseModel):
    course_id: int
    embed_key: str
    allowed_origins: list[str]
    require_signed_identity: bool
    snippet: str


class EmbedIn(BaseModel):
    allowed_origins: list[Origin] = Field(max_length=50)
    require_signed_identity: bool | None = Field(
        None, description="only students the host page's backend signed a token for may chat (no anonymous visitors)"
    )


class WidgetSessionIn(BaseModel):
    course_id: FieldId
    embed_key: str = Field(min_length=8, max_length=100)
    visitor_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    token: str | None = Field(None, description="a token the host page's backend signed for the student")


class WidgetSessionOut(BaseModel):
    token: str
    expires_in: int
    user_id: str


def _embed(request: Request, course_id: int, embed: EmbedSettings) -> EmbedOut:
    base = str(request.base_url).rstrip("/")
    key = embed.embed_key or ""
    snippet = f'<script src="{base}/widget.js" data-course="{course_id}" data-key="{key}" async></script>'
    return EmbedOut(
        course_id=course_id,
        embed_key=key,
        allowed_origins=embed.allowed_origins,
        require_signed_identity=embed.require_signed_identity,
        snippet=snippet,
    )


def _store(course: Course, **changes: Any) -> EmbedSettings:
    meta = {**(course.metadata_ or {}), **changes}
    if not meta.get("embed_key"):
        meta["embed_key"] = new_embed_key()
    course.metadata_ = meta
    return embed_settings(meta)


@router.get("/widget.js", include_in_schema=False)
async def widget_js(request: Request) -> Response:
    return static_file(STATIC / "widget.js", request, cache="public, max-age=300")


@router.get("/api/courses/{course_id}/embed", response_model=EmbedOut, summary="The widget snippet and its settings")
async def read_embed(
    course_id: PathId,
    request: Request,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> EmbedOut:
    course = await visible_course(session, user, course_id, manage=True)
    embed = embed_settings(course.metadata_)
    return _embed(request, course_id, embed if embed.embed_key else _store(course))


@router.put("/api/courses/{course_id}/embed", response_model=EmbedOut, summary="Set the origins that may embed it")
async def write_embed(
    course_id: PathId,
    body: EmbedIn,
    request: Request,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> EmbedOut:
    course = await visible_course(session, user, course_id, manage=True)
    return _embed(request, course_id, _store(course, **body.model_dump(exclude_none=True)))


@router.post("/api/courses/{course_id}/embed/rotate", response_model=EmbedOut, summary="Replace the embed key")
async def rotate_embed(
    course_id: PathId,
    request: Request,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> EmbedOut:
    course = await visible_course(session, user, course_id, manage=True)
    return _embed(request, course_id, _store(course, embed_key=new_embed_key()))


@router.post("/api/widget/session", response_model=WidgetSessionOut, summary="A short-lived token for a widget visitor")
async def widget_session(
    body: WidgetSessionIn,
    request: Request,
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> WidgetSessionOut:
    settings = state.settings
    course = (await session.execute(select(Course).where(Course.course_id == body.course_id))).scalar_one_or_none()
    embed = embed_settings(course.metadata_ if course else None)
    if (
        course is None
        or course.status != "active"
        or not embed.embed_key
        or not secrets.compare_digest(embed.embed_key, body.embed_key)
    ):
        raise NotFoundError("course_not_found", "no such course for this embed key")
    origin = request.headers.get("origin", "")
    if origin not in embed.allowed_origins:
        raise TutorError(
            "origin_not_allowed", f"this page's origin ({origin or 'none'}) may not embed this course", status=403
        )
    await count_new_visitor(request, course.course_id)
    if body.token:
        host = await state.verifier.verify(body.token)
        if host.is_widget:  # a widget token is not renewed by itself, or a visitor would never have to come back
            raise AuthError("widget_token_not_exchangeable", "send the host page's token, not a widget token")
        user_id = host.user_id
    elif embed.require_signed_identity:
        raise AuthError(
            "signed_identity_required",
            "this course's widget needs the host page to sign its students in (data-token)",
            status=403,
        )
    else:
        user_id = f"visitor:{body.course_id}:{body.visitor_id}"
        await admit_visitor(session, state.redis, course, user_id, settings.max_widget_visitors_per_course)
    # A widget token is always a student's, whatever the host's token says.
    await sign_in(session, Principal(user_id, "student"))
    token = mint_widget_token(settings, user_id, course_id=body.course_id, origin=origin, ttl_s=WIDGET_TOKEN_TTL_S)
    return WidgetSessionOut(token=token, expires_in=WIDGET_TOKEN_TTL_S, user_id=user_id)
