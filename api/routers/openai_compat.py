"""The tutor as an OpenAI-compatible endpoint: any OpenAI client or chat UI can talk to a course tutor.

`model` is `course-<id>`; the bearer token is the API key. Citations ride along in an extra `citations`
field (on the completion, or on the last chunk of a stream).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session, get_state
from api.params import INT4_MAX
from api.ratelimit import limit
from api.state import AppState
from tutor.chat import events as ev
from tutor.chat.engine import ChatEngine, ChatRequest
from tutor.errors import NotFoundError, TutorError
from tutor.identity import Principal

router = APIRouter(tags=["openai-compatible"])


class OAIMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None


class CompletionIn(BaseModel):
    model: str = Field(description="course-<id>")
    messages: list[OAIMessage]
    stream: bool = False
    session_id: str | None = Field(None, description="continue a tutor session (extra field)")


def _course_id(model: str) -> int:
    digits = model.removeprefix("course-")
    if not model.startswith("course-") or not digits.isdigit() or not 1 <= int(digits) <= INT4_MAX:
        raise NotFoundError("model_not_found", f"unknown model {model!r}; use course-<id>")
    return int(digits)


def _text(message: OAIMessage) -> str:
    if isinstance(message.content, list):
        return " ".join(str(part.get("text", "")) for part in message.content if part.get("type") == "text")
    return message.content or ""


@router.post("/v1/chat/completions", summary="OpenAI-compatible chat with a course tutor (model = course-<id>)")
async def completions(
    body: CompletionIn,
    user: Principal = Depends(limit("chat")),
    state: AppState = Depends(get_state),
    session: AsyncSession = Depends(get_session),
) -> Any:
    course_id = _course_id(body.model)
    question = next((_text(m) for m in reversed(body.messages) if m.role == "user"), "")
    engine: ChatEngine = await state.chat_engine()
    turn = await engine.prepare(
        user, ChatRequest(course_id=course_id, message=question, session_id=body.session_id), session
    )
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    if body.stream:

        async def stream() -> AsyncIterator[str]:
            citations: list[dict[str, Any]] = []
            yield chunk({"role": "assistant", "content": ""})
            async for event in engine.run(turn):
                if isinstance(event, ev.Token):
                    yield chunk({"content": event.text})
                elif isinstance(event, ev.Citation):
                    citations.append(event.data())
                elif isinstance(event, ev.Error):
                    yield f"data: {json.dumps({'error': {'code': event.code, 'message': event.message}})}\n\n"
                    return
                elif isinstance(event, ev.Done):
                    yield chunk({}, "stop", citations=citations, session_id=turn.session_id, usage=event.usage)
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    text: list[str] = []
    citations: list[dict[str, Any]] = []
    usage: dict[str, int] = {}
    async for event in engine.run(turn):
        if isinstance(event, ev.Token):
            text.append(event.text)
        elif isinstance(event, ev.Citation):
            citations.append(event.data())
        elif isinstance(event, ev.Error):
            raise TutorError(event.code, event.message, status=502)
        elif isinstance(event, ev.Done):
            usage = event.usage
    prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
    return JSONResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "".join(text)}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
            "citations": citations,
            "session_id": turn.session_id,
        }
    )
