"""Teachers read their students' transcripts: search, paging, one session in full, CSV and JSON Lines export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_session, get_state
from api.filenames import attachment
from api.params import PathId, QueryId
from api.routers.chat import MessageOut, TranscriptOut
from api.state import AppState
from tutor import transcripts
from tutor.chat import history
from tutor.courses import visible_course
from tutor.errors import NotFoundError
from tutor.identity import Principal
from tutor.transcripts import ContentGap, SessionRow, TranscriptFilter

router = APIRouter(tags=["transcripts"])


class SessionsPage(BaseModel):
    items: list[SessionRow]
    next_cursor: str | None


def _filter(
    course_id: PathId, user_id: str | None, since: datetime | None, until: datetime | None, q: str | None
) -> TranscriptFilter:
    return TranscriptFilter(course_id, user_id, since, until, q or None)


@router.get("/api/chat/transcripts", response_model=SessionsPage, summary="Sessions in your course, newest first")
async def list_transcripts(
    course_id: QueryId,
    user_id: str | None = None,
    since: datetime | None = Query(None, alias="from"),
    until: datetime | None = Query(None, alias="to"),
    q: str | None = Query(None, max_length=200, description="text the session contains"),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = None,
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> SessionsPage:
    await visible_course(session, user, course_id, manage=True)
    page = await transcripts.sessions(session, _filter(course_id, user_id, since, until, q), limit=limit, cursor=cursor)
    return SessionsPage(items=page.items, next_cursor=page.next_cursor)


@router.get(
    "/api/chat/transcripts/export",
    summary="A course's transcripts as CSV or JSON Lines",
    response_class=StreamingResponse,
)
async def export(
    course_id: QueryId,
    format: Literal["csv", "jsonl"] = "jsonl",
    user_id: str | None = None,
    since: datetime | None = Query(None, alias="from"),
    until: datetime | None = Query(None, alias="to"),
    q: str | None = Query(None, max_length=200),
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> StreamingResponse:
    await visible_course(session, user, course_id, manage=True)
    f = _filter(course_id, user_id, since, until, q)

    async def lines() -> AsyncIterator[str]:
        # Its own session: the request's closes when the handler returns, before the body streams.
        async with state.sessions() as own:
            if format == "csv":
                yield transcripts.as_csv_line(None)
            async for row in transcripts.export_rows(own, f):
                yield transcripts.as_csv_line(row) if format == "csv" else transcripts.as_jsonl_line(row)

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    name = f"course-{course_id}-transcripts.{format}"
    return StreamingResponse(lines(), media_type=media, headers={"Content-Disposition": attachment(name)})


@router.get("/api/chat/transcripts/{session_id}", response_model=TranscriptOut, summary="One session in full")
async def read_transcript(
    session_id: str, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> TranscriptOut:
    found = await history.owner(session, session_id)
    if found is None or found.course_id is None:
        raise NotFoundError("session_not_found", f"no chat session {session_id}")
    try:
        await visible_course(session, user, found.course_id, manage=True)
    except NotFoundError:
        raise NotFoundError("session_not_found", f"no chat session {session_id}") from None
    rows = await history.transcript(session, session_id)
    return TranscriptOut(
        session_id=session_id,
        course_id=found.course_id,
        user_id=found.user_id,
        messages=[
            MessageOut(
                id=r.id, message_type=r.message_type, message=r.message, timestamp=r.timestamp, metadata=r.metadata_
            )
            for r in rows
        ],
    )


@router.get(
    "/api/analytics/courses/{course_id}/content-gaps",
    response_model=list[ContentGap],
    summary="Questions the tutor could not answer from the course",
)
async def gaps(
    course_id: PathId,
    limit: int = Query(50, ge=1, le=200),
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[ContentGap]:
    await visible_course(session, user, course_id, manage=True)
    return await transcripts.content_gaps(session, course_id, limit)
