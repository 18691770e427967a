"""Property-based run of the whole API from its own OpenAPI schema: whatever is sent, no 5xx.

Half the generated requests name rows that exist (a course with modules, topics, quizzes, a stored file and its
job), so they reach the handlers instead of stopping at 404; deletes get a course of their own to destroy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import Topic
from ingestion.storage import open_storage
from ingestion.uploads import UploadedFile, accept_upload
from tests.conftest import empty_tables, poll
from tests.factories import course_pdf, sciq_chapters, unique_user
from tests.quiz.rows import make_course
from tests.servers import api_server
from tutor.identity import Principal, mint_token
from tutor.settings import Settings

TEACHER = unique_user("teacher-fuzz")  # a fresh upload budget in a shared Redis
# Real rows get ids far from the small numbers hypothesis tries first, so a random DELETE never hits them.
SEQUENCES = ("courses_course_id_seq", "modules_id_seq", "topics_id_seq", "source_files_id_seq", "job_queue_id_seq")


@dataclass(frozen=True)
class RealIds:
    kept: dict[str, Any]  # for every method but DELETE
    doomed: dict[str, Any]  # for DELETE: the run may destroy it


async def _real_ids(sessions: async_sessionmaker[AsyncSession], settings: Settings, offset: int) -> dict[str, Any]:
    async with sessions() as session, session.begin():
        for sequence in SEQUENCES:
            await session.execute(text(f"SELECT setval('{sequence}', {7_000_000 + 1000 * offset})"))
    rows = await make_course(sessions, teacher=TEACHER, weeks=2)
    pdf = course_pdf(sciq_chapters(1, 1, 1, offset=offset))
    async with sessions() as session, session.begin():
        receipt = await accept_upload(  # a stored file and its pending job (no worker runs it)
            session,
            open_storage(settings),
            settings,
            uploader=Principal(TEACHER, "teacher"),
            files=[UploadedFile("fuzz.pdf", pdf)],
            title=None,
            description=None,
            course_id=rows.course_id,
        )
        topic_id = await session.scalar(select(Topic.id).where(Topic.module_id == rows.module_ids[0]))
        await session.execute(
            text(
                "INSERT INTO chat_history (user_id, course_id, session_id, message_type, message, metadata) "
                "VALUES (:u, :c, :s, 'user', 'hello', '{}'::jsonb)"
            ),
            {"u": TEACHER, "c": rows.course_id, "s": f"sess_fuzz{offset}"},
        )
    return {
        "course_id": rows.course_id,
        "module_id": rows.module_ids[0],
        "topic_id": topic_id,
        "quiz_id": rows.quiz_ids[0],
        "number": 1,
        "file_id": receipt.files[0].file_id,
        "job_id": receipt.job_id,
        "session_id": f"sess_fuzz{offset}",
        "user_id": TEACHER,
    }


@pytest.fixture(scope="module")
async def seeded(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings: Settings
) -> AsyncIterator[RealIds]:
    yield RealIds(await _real_ids(sessions, settings, 0), await _real_ids(sessions, settings, 5))
    await empty_tables(engine)


@pytest.fixture(scope="module")
def live_schema(settings: Settings) -> Iterator[schemathesis.BaseSchema]:
    with api_server(settings) as base:
        # Ready before the run: the vector store opens on first use (seconds on a busy machine) and /readyz
        # says 503 until it has, which is right for a balancer and no finding about the input.
        poll(lambda: httpx.get(f"{base}/readyz", timeout=30).status_code == 200, timeout=120, message="/readyz")
        yield schemathesis.openapi.from_url(f"{base}/openapi.json")


def _name_real_rows(case: schemathesis.Case, ids: dict[str, Any]) -> None:
    """Put real ids into the generated request wherever it names one: path, query, JSON or form body."""
    parts = [case.path_parameters, case.query, case.body if isinstance(case.body, dict) else None]
    for part in parts:
        for name in list(part or {}):
            if name in ids:
                part[name] = ids[name]  # type: ignore[index]


def test_no_request_makes_the_api_fail(
    live_schema: schemathesis.BaseSchema, settings: Settings, seeded: RealIds
) -> None:
    # Schemathesis' own pytest plugin does not run on this pytest; hypothesis drives each operation directly.
    headers = {"Authorization": f"Bearer {mint_token(settings, TEACHER, 'teacher')}"}
    failures: list[str] = []
    operations = 0
    reached: set[str] = set()  # operations that answered 2xx at least once: the handler ran to its end
    for result in live_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(), real=st.booleans())
        @hypothesis_settings(
            max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case: schemathesis.Case, real: bool) -> None:
            if real:
                _name_real_rows(case, seeded.doomed if case.method.upper() == "DELETE" else seeded.kept)
            response = case.call(headers=headers, timeout=60)
            if response.status_code < 300:
                reached.add(f"{case.method} {case.path}")
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")
            elif response.status_code >= 400 and "error" not in response.json():
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code} without the error shape"
                )

        run()
    assert operations >= 40
    assert failures == [], "\n".join(failures[:10])
    assert len(reached) >= operations // 2, sorted(reached)
