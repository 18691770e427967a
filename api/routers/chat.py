"""The tutor chat over Server-Sent Events, and a student's own sessions and transcripts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.auth import widget_or_user
from api.deps import get_session, get_state
from api.params import INT4_MAX, FieldId, PathId, QueryId
from api.ratelimit import limit
from api.state import AppState
from tutor.chat import history
from tutor.chat.engine import ChatEngine, ChatRequest, Turn
from tutor.identity import Principal

router = APIRouter(tags=["chat"])
HEARTBEAT_S = 15


class ChatIn(BaseModel):
    course_id: FieldId
    message: str = Field(description="the student's message")
    session_id: str | None = Field(None, max_length=100, description="continue this session; a new one when absent")
    quiz_id: str | None = Field(None, max_length=100, description="start this quiz (a tapped quiz offer)")
    question_number: int | None = Field(
        None, ge=1, le=INT4_MAX, description="the quiz question a tapped option answers"
    )


class MessageOut(BaseModel):
    id: int
    message_type: str
    message: str
    timestamp: datetime | None
    metadata: dict[str, Any] | None


class MessageStateOut(BaseModel):
    id: int
    session_id: str
    course_id: int | None
    message_type: str
    status: str = Field(description="finished, streaming (text so far), interrupted (its process died) or error")
    message: str
    timestamp: datetime | None
    updated_at: datetime | None
    metadata: dict[str, Any]


class SessionOut(BaseModel):
    session_id: str
    course_id: int | None
    started_at: datetime | None
    last_message_at: datetime | None
    messages: int
    title: str


class TranscriptOut(BaseModel):
    session_id: str
    course_id: int | None
    user_id: str
    messages: list[MessageOut]


async def sse(engine: ChatEngine, turn: Turn) -> AsyncIterator[ServerSentEvent]:
    async for event in engine.run(turn):
        yield ServerSentEvent(data=event.json(), event=event.name)


@router.post(
    "/api/chat/stream",
    summary="Ask the tutor; the answer streams as Server-Sent Events",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "meta, token*, citation*, quiz_*, done|error"}
    },
)
async def chat_stream(
    body: ChatIn,
    request: Request,
    user: Principal = Depends(limit("chat", widget=True)),
    state: AppState = Depends(get_state),
    session: AsyncSession = Depends(get_session),
) -> EventSourceResponse:
    engine: ChatEngine = await state.chat_engine()
    turn = await engine.prepare(user, ChatRequest(**body.model_dump()), session)
    return EventSourceResponse(sse(engine, turn), ping=HEARTBEAT_S, headers={"X-Session-Id": turn.session_id})


@router.get("/api/chat/sessions", response_model=list[SessionOut], summary="Your chat sessions, newest first")
async def my_sessions(
    course_id: QueryId | None = None,
    limit_: int = Query(50, alias="limit", ge=1, le=200),
    user: Principal = Depends(widget_or_user),
    session: AsyncSession = Depends(get_session),
) -> list[SessionOut]:
    if user.course_scope is not None:  # a widget sees its own course's sessions only
        if course_id not in (None, user.course_scope):
            return []
        course_id = user.course_scope
    found = await history.sessions_of(session, user_id=user.user_id, course_id=course_id, limit=limit_)
    return [
        SessionOut(
            session_id=s.session_id,
            course_id=s.course_id,
            started_at=s.started_at,
            last_message_at=s.last_message_at,
            messages=s.messages,
            title=s.title,
        )
        for s in found
    ]


@router.get("/api/chat/sessions/{session_id}", response_model=TranscriptOut, summary="One of your sessions in full")
async def my_session(
    session_id: str, user: Principal = Depends(widget_or_user), session: AsyncSession = Depends(get_session)
) -> TranscriptOut:
    await history.own_session(session, session_id, user.user_id, user.course_scope)
    rows = await history.transcript(session, session_id)
    return TranscriptOut(
        session_id=session_id,
        course_id=rows[0].course_id if rows else None,
        user_id=user.user_id,
        messages=[
            MessageOut(
                id=r.id, message_type=r.message_type, message=r.message, timestamp=r.timestamp, metadata=r.metadata_
            )
            for r in rows
        ],
    )


@router.get(
    "/api/chat/messages/{message_id}",
    response_model=MessageStateOut,
    summary="One of your messages by id: a reply's status and its text so far (after a lost stream)",
)
async def my_message(
    message_id: PathId, user: Principal = Depends(widget_or_user), session: AsyncSession = Depends(get_session)
) -> MessageStateOut:
    m = await history.own_message(session, message_id, user.user_id, user.course_scope)
    return MessageStateOut(
        id=m.id,
        session_id=m.session_id,
        course_id=m.course_id,
        message_type=m.message_type,
        status=m.status,
        message=m.text,
        timestamp=m.timestamp,
        updated_at=m.updated_at,
        metadata=m.metadata,
    )
