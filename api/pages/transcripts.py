"""Transcripts in the console: sessions filtered by student, date and text; one session with citations and quiz
events inline. The export links are the JSON API's export of the same filter, which takes the console's session
cookie (api/auth.py): one export, not a copy for the pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session
from api.pages.render import render
from api.params import PathId
from api.web_session import WebSession, current_web_session, current_web_teacher
from tutor import transcripts
from tutor.chat import history
from tutor.courses import visible_course
from tutor.errors import NotFoundError, TutorError
from tutor.identity import Principal
from tutor.transcripts import TranscriptFilter

router = APIRouter(include_in_schema=False)


def _day(value: str | None, name: str) -> date | None:
    # A date input sends "" when left empty: that means no bound, not an error.
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TutorError("invalid_date", f"{name} must be a date like 2026-03-01", status=422) from None


def _filter(
    course_id: int, student: str | None, since: str | None, until: str | None, q: str | None
) -> TranscriptFilter:
    start, end = _day(since, "from"), _day(until, "to")
    return TranscriptFilter(
        course_id,
        student.strip() if student and student.strip() else None,
        datetime.combine(start, datetime.min.time()) if start else None,
        datetime.combine(end + timedelta(days=1), datetime.min.time()) if end else None,  # "to" includes its day
        q.strip() if q and q.strip() else None,
    )


def export_query(f: TranscriptFilter) -> str:
    """The JSON API export's query for this filter (its dates are instants; "to" already includes its day)."""
    params = {
        "course_id": f.course_id,
        "user_id": f.user_id,
        "from": f.since.isoformat() if f.since else None,
        "to": f.until.isoformat() if f.until else None,
        "q": f.q,
    }
    return urlencode({k: v for k, v in params.items() if v is not None})


@router.get("/teach/courses/{course_id}/transcripts")
async def transcripts_page(
    request: Request,
    course_id: PathId,
    student: str | None = Query(None, max_length=100),
    since: str | None = Query(None, alias="from", max_length=10),
    until: str | None = Query(None, alias="to", max_length=10),
    q: str | None = Query(None, max_length=200),
    cursor: str | None = Query(None, max_length=200),
    user: Principal = Depends(current_web_teacher),
    web: WebSession = Depends(current_web_session),
    session: AsyncSession = Depends(get_session),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    f = _filter(course_id, student, since, until, q)
    page = await transcripts.sessions(session, f, limit=50, cursor=cursor)
    filters = {k: v for k, v in {"student": student, "from": since, "to": until, "q": q}.items() if v}
    return render(
        request,
        "teach/transcripts.html",
        web=web,
        user=user,
        course=course,
        page=page,
        filters=filters,
        query=urlencode(filters),
        export=export_query(f),
        more=urlencode({**filters, "cursor": page.next_cursor}) if page.next_cursor else None,
    )


@router.get("/teach/courses/{course_id}/transcripts/{session_id}")
async def transcript_page(
    request: Request,
    course_id: PathId,
    session_id: str,
    user: Principal = Depends(current_web_teacher),
    web: WebSession = Depends(current_web_session),
    session: AsyncSession = Depends(get_session),
) -> Response:
    course = await visible_course(session, user, course_id, manage=True)
    found = await history.owner(session, session_id)
    if found is None or found.course_id != course_id:
        raise NotFoundError("session_not_found", f"no chat session {session_id} in this course")
    messages = await history.transcript(session, session_id)
    targets = await transcripts.cited_targets(session, course_id, messages)
    return render(
        request,
        "teach/transcript.html",
        web=web,
        user=user,
        course=course,
        owner=found,
        export=export_query(TranscriptFilter(course_id, found.user_id)),
        session_id=session_id,
        messages=messages,
        targets=targets,
    )
