"""Property-based run of the whole API from its own OpenAPI schema: whatever is sent, no 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.servers import api_server
from tutor.identity import mint_token
from tutor.settings import Settings


@pytest.fixture(scope="module")
async def seeded(sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> AsyncIterator[None]:
    from tests.quiz.rows import make_course

    await make_course(sessions, teacher="teacher-fuzz", weeks=2)
    yield
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "TRUNCATE chat_history, user_progress, quiz_attempts, quiz_responses, source_files, "
                "job_queue, quiz_questions, quizzes, topics, modules, courses, users RESTART IDENTITY CASCADE"
            )
        )


@pytest.fixture(scope="module")
def live_schema(settings: Settings, seeded: None) -> Iterator[schemathesis.BaseSchema]:
    with api_server(settings) as base:
        yield schemathesis.openapi.from_url(f"{base}/openapi.json")


def test_no_request_makes_the_api_fail(live_schema: schemathesis.BaseSchema, settings: Settings) -> None:
    # Schemathesis' own pytest plugin does not run on this pytest; hypothesis drives each operation directly.
    headers = {"Authorization": f"Bearer {mint_token(settings, 'teacher-fuzz', 'teacher')}"}
    failures: list[str] = []
    operations = 0
    for result in live_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers, timeout=60)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")
            elif response.status_code >= 400 and "error" not in response.json():
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code} without the error shape"
                )

        run()
    assert operations >= 40
    assert failures == [], "\n".join(failures[:10])
