"""The embeddable widget: its script, the teacher's embed settings and page, and visitor sessions."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_session, get_state
from api.params import FieldId, PathId
from api.ratelimit import hit
from api.routers.assets import static_file
from api.state import AppState
from db.models import Course
from tutor.courses import visible_course
from tutor.errors import NotFoundError, TutorError
from tutor.identity import Principal, mint_token, sign_in

router = APIRouter(tags=["widget"])
STATIC = Path(__file__).resolve().parents[1] / "static"
WIDGET_TOKEN_TTL_S = 2 * 3600


class EmbedOut(BaseModel):
    course_id: int
    embed_key: str
    allowed_origins: list[str]
    snippet: str


class EmbedIn(BaseModel):
    allowed_origins: list[str] = Field(max_length=50)

    @field_validator("allowed_origins")
    @classmethod
    def origins(cls, values: list[str]) -> list[str]:
        for v in values:
            u = urlparse(v)
            if u.scheme not in ("http", "https") or not u.netloc or u.path not in ("", "/") or u.query or u.fragment:
                raise ValueError(f"{v!r} is not an origin (scheme://host[:port], nothing after)")
        return [v.rstrip("/") for v in values]


class WidgetSessionIn(BaseModel):
    course_id: FieldId
    embed_key: str = Field(min_length=8, max_length=100)
    visitor_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    token: str | None = Field(None, description="a token the host page's backend signed for the student")


class WidgetSessionOut(BaseModel):
    token: str
    expires_in: int
    user_id: str


def _embed(request: Request, course_id: int, meta: dict[str, Any]) -> EmbedOut:
    base = str(request.base_url).rstrip("/")
    snippet = f'<script src="{base}/widget.js" data-course="{course_id}" data-key="{meta["embed_key"]}" async></script>'
    return EmbedOut(
        course_id=course_id,
        embed_key=meta["embed_key"],
        allowed_origins=meta.get("allowed_origins", []),
        snippet=snippet,
    )


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
    meta = dict(course.metadata_ or {})
    if "embed_key" not in meta:
        meta["embed_key"] = f"ek_{secrets.token_urlsafe(18)}"
        course.metadata_ = meta
    return _embed(request, course_id, meta)


@router.put("/api/courses/{course_id}/embed", response_model=EmbedOut, summary="Set the origins that may embed it")
async def write_embed(
    course_id: PathId,
    body: EmbedIn,
    request: Request,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> EmbedOut:
    course = await visible_course(session, user, course_id, manage=True)
    meta = {
        "embed_key": f"ek_{secrets.token_urlsafe(18)}",
        **(course.metadata_ or {}),
        "allowed_origins": body.allowed_origins,
    }
    course.metadata_ = meta
    return _embed(request, course_id, meta)


@router.post("/api/courses/{course_id}/embed/rotate", response_model=EmbedOut, summary="Replace the embed key")
async def rotate_embed(
    course_id: PathId,
    request: Request,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> EmbedOut:
    course = await visible_course(session, user, course_id, manage=True)
    meta = {**(course.metadata_ or {}), "embed_key": f"ek_{secrets.token_urlsafe(18)}"}
    course.metadata_ = meta
    return _embed(request, course_id, meta)


@router.post("/api/widget/session", response_model=WidgetSessionOut, summary="A short-lived token for a widget visitor")
async def widget_session(
    body: WidgetSessionIn,
    request: Request,
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> WidgetSessionOut:
    course = (await session.execute(select(Course).where(Course.course_id == body.course_id))).scalar_one_or_none()
    meta = (course.metadata_ or {}) if course else {}
    if (
        course is None
        or course.status != "active"
        or not secrets.compare_digest(str(meta.get("embed_key", "")), body.embed_key)
    ):
        raise NotFoundError("course_not_found", "no such course for this embed key")
    origin = request.headers.get("origin", "")
    if origin not in meta.get("allowed_origins", []):
        raise TutorError(
            "origin_not_allowed", f"this page's origin ({origin or 'none'}) may not embed this course", status=403
        )
    await hit(request, f"widget:{origin}:{body.visitor_id}", state.settings.rate_limit_chat_per_minute, 60, "sessions")
    if body.token:
        principal = state.verifier.verify(body.token)
        user_id, role = principal.user_id, principal.role
    else:
        user_id, role = f"visitor:{body.course_id}:{body.visitor_id}", "student"
    del role  # a widget token is always a student's, whatever the host's token says
    await sign_in(session, Principal(user_id, "student"))
    token = mint_token(
        state.settings, user_id, "student", ttl_s=WIDGET_TOKEN_TTL_S, course=body.course_id, origin=origin
    )
    return WidgetSessionOut(token=token, expires_in=WIDGET_TOKEN_TTL_S, user_id=user_id)
