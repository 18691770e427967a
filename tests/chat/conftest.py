"""A real course for the chat tests: SciQ paragraphs in a PDF, ingested by the real pipeline into Chroma."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.chat.sse import parse_sse
from tests.clocked import clock, clocked_client  # noqa: F401  (an app whose clock a test moves)
from tests.conftest import empty_tables
from tests.factories import course_pdf, ingest_course, sciq_chapters, sciq_items
from tutor.settings import Settings


@dataclass(frozen=True)
class ChatCourse:
    course_id: int
    items: list[dict[str, str]]  # the SciQ items whose support paragraphs are in the course


@pytest.fixture(scope="module")
async def course(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> AsyncIterator[ChatCourse]:
    course_id = await ingest_course(settings, sessions, [("biology.pdf", course_pdf(sciq_chapters(3, 3, 2)))])
    yield ChatCourse(course_id, sciq_items()[:18])
    await empty_tables(engine)
    from tutor.vectorstore import open_vector_store

    open_vector_store(settings).delete_course(course_id)


class Chat:
    """One student's chat with a course through the real SSE endpoint."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], course_id: int) -> None:
        self.client, self.headers, self.course_id = client, headers, course_id
        self.session_id: str | None = None

    async def send(self, message: str, **extra: Any) -> list[tuple[str, Any]]:
        body = {"course_id": self.course_id, "message": message, "session_id": self.session_id, **extra}
        response = await self.client.post("/api/chat/stream", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        events = parse_sse(response.text)
        self.session_id = events[0][1]["session_id"]
        return events


@pytest.fixture
def chat(app_client: httpx.AsyncClient, auth, course: ChatCourse):  # type: ignore[no-untyped-def]
    return lambda user="student-1": Chat(app_client, auth(user), course.course_id)
