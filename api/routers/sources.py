"""Citations that open the source: signed, short-lived links to a course's PDFs, and the route serving them."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import widget_or_user
from api.deps import get_clock, get_session, get_state
from api.params import INT4_MAX, FieldId, PathId
from api.state import AppState
from ingestion.storage import open_storage
from tutor.courses import visible_course
from tutor.identity import Principal
from tutor.review.clock import Clock
from tutor.sourcelinks import SourceLink, course_file, seconds_left

router = APIRouter(tags=["files"])


class LinkIn(BaseModel):
    course_id: FieldId
    file_id: str = Field(min_length=1, max_length=100)
    page: int | None = Field(None, ge=1, le=INT4_MAX)


class LinkOut(BaseModel):
    url: str
    expires_at: datetime


# Under /api/widget/: the widget asks for a fresh link from the host page's origin (CORS covers that prefix).
@router.post("/api/widget/source-links", response_model=LinkOut, summary="A short-lived link to a cited PDF page")
async def make_link(
    body: LinkIn,
    user: Principal = Depends(widget_or_user),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
    clock: Clock = Depends(get_clock),
) -> LinkOut:
    await visible_course(session, user, body.course_id)  # a widget's token: its own course only
    await course_file(session, body.course_id, body.file_id)
    link: SourceLink = state.source_links().link(body.course_id, body.file_id, body.page, clock.now())
    return LinkOut(url=link.url, expires_at=link.expires_at)


@router.get(
    "/api/sources/{course_id}/{file_id}",
    summary="A source PDF through a signed link (opens in the browser's viewer)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def open_source(
    course_id: PathId,
    file_id: str,
    exp: int = Query(ge=0, le=2**40),
    sig: str = Query(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$"),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
    clock: Clock = Depends(get_clock),
) -> Response:
    state.source_links().check(course_id, file_id, exp, sig, clock.now())
    found = await course_file(session, course_id, file_id)
    data = await asyncio.to_thread(open_storage(state.settings).get, found.file_path or "")
    safe = "".join(c for c in found.filename if c.isascii() and c.isprintable() and c not in '"\\;') or "source.pdf"
    remaining = seconds_left(exp, clock.now())
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{safe}"',
            "Cache-Control": f"private, max-age={min(remaining, 600)}",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
