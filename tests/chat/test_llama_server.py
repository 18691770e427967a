"""The real local model behind a real OpenAI-compatible server (llama.cpp), driven through the tutor's SSE API."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.chat.conftest import ChatCourse
from tests.chat.sse import answer_text, parse_sse
from tests.servers import api_server, llama_server
from tutor.settings import Settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        __import__("importlib").util.find_spec("llama_cpp") is None, reason="the `local` extra is not installed"
    ),
]


@pytest.fixture(scope="module")
def tutor_on_llama(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with llama_server(tmp_path_factory.mktemp("llama") / "server.log") as base_url:
        local = settings.model_copy(update={"llm_provider": "openai", "llm_base_url": base_url, "llm_model": "smollm2"})
        with api_server(local) as api:
            yield api


async def test_chat_streams_an_answer_from_the_local_model_through_the_openai_provider(
    tutor_on_llama: str, course: ChatCourse, auth: Callable[..., dict[str, str]], engine: AsyncEngine
) -> None:
    async with httpx.AsyncClient(base_url=tutor_on_llama, timeout=120) as client:
        response = await client.post(
            "/api/chat/stream",
            headers=auth("student-llama"),
            json={"course_id": course.course_id, "message": course.items[3]["question"]},
        )
    events = parse_sse(response.text)
    assert events[0][0] == "meta" and events[-1][0] == "done", events[-3:]
    assert len(answer_text(events).split()) >= 3
    assert events[-1][1]["provider"] == "openai" and events[-1][1]["model"] == "smollm2"
    assert any(n == "citation" for n, _ in events)
    async with engine.connect() as conn:
        meta = await conn.scalar(
            text("SELECT metadata FROM chat_history WHERE user_id = 'student-llama' AND message_type = 'assistant'")
        )
    assert meta["provider"] == "openai" and meta["incomplete"] is False


async def test_a_client_that_disconnects_mid_answer_leaves_the_partial_reply_marked_incomplete(
    tutor_on_llama: str, course: ChatCourse, auth: Callable[..., dict[str, str]], engine: AsyncEngine
) -> None:
    tokens = 0
    async with (
        httpx.AsyncClient(base_url=tutor_on_llama, timeout=120) as client,
        client.stream(
            "POST",
            "/api/chat/stream",
            headers=auth("student-leaves"),
            json={
                "course_id": course.course_id,
                "message": "Explain in detail, step by step, what a frameshift mutation is.",
            },
        ) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("event: token"):
                tokens += 1
            if tokens >= 3:
                break  # closing the stream here is the student closing the tab
    deadline = time.monotonic() + 30
    while True:
        async with engine.connect() as conn:
            meta = await conn.scalar(
                text(
                    "SELECT metadata FROM chat_history WHERE user_id = 'student-leaves' AND message_type = 'assistant'"
                )
            )
        if meta and meta.get("status") != "streaming":
            break
        assert time.monotonic() < deadline, meta
        await __import__("asyncio").sleep(0.1)
    assert meta["incomplete"] is True and meta["status"] == "interrupted", json.dumps(meta)
    async with engine.connect() as conn:
        partial = await conn.scalar(
            text("SELECT message FROM chat_history WHERE user_id = 'student-leaves' AND message_type = 'assistant'")
        )
    assert partial.strip()
