"""`tutor reindex` rebuilds a course's dense index from PostgreSQL: same answers, no PDF read again."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ingestion.storage import open_storage
from ingestion.uploads import UploadedFile, accept_upload
from tests.chat.sse import answer_text, parse_sse
from tests.conftest import REPO, settings_env
from tests.factories import course_pdf, ingest_course, sciq_chapters, sciq_items
from tests.retrieval.conftest import Parts
from tutor.errors import ConflictError
from tutor.identity import Principal
from tutor.reindex import reindex_course
from tutor.settings import Settings


def reindex(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "reindex", *args],
        env=settings_env(settings),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def ask(client: httpx.AsyncClient, headers: dict[str, str], course_id: int, question: str) -> httpx.Response:
    return await client.post("/api/chat/stream", json={"course_id": course_id, "message": question}, headers=headers)


def what_the_student_sees(response: httpx.Response) -> tuple[str, list[dict[str, Any]]]:
    events = parse_sse(response.text)
    # A citation's signed source link carries its own expiry time: the rest must be the same.
    return answer_text(events), [{k: v for k, v in d.items() if k != "url"} for n, d in events if n == "citation"]


async def test_reindex_after_losing_the_index_gives_the_same_answers_and_citations(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    parts: Parts,
) -> None:
    course_id = await ingest_course(settings, sessions, [("biology.pdf", course_pdf(sciq_chapters(3, 3, 2)))])
    student = auth("student-reindex")
    questions = [i["question"] for i in sciq_items()[:18:4]]
    before = [what_the_student_sees(await ask(client, student, course_id, q)) for q in questions]
    assert all(citations for _, citations in before)

    parts.store.delete_course(course_id)  # the index is lost
    lost = await ask(client, student, course_id, questions[0])
    assert lost.status_code == 409 and lost.json()["error"]["code"] == "index_missing"

    done = reindex(settings, str(course_id))
    assert done.returncode == 0, done.stderr
    assert f"course {course_id}: " in done.stderr and "chunks indexed" in done.stderr
    after = [what_the_student_sees(await ask(client, student, course_id, q)) for q in questions]
    assert after == before


async def test_an_index_built_with_another_model_names_the_command_that_rebuilds_it(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    parts: Parts,
) -> None:
    course_id = await ingest_course(settings, sessions, [("biology.pdf", course_pdf(sciq_chapters(1, 2, 2)))])
    collection = parts.store.client.get_collection(f"course_{course_id}")
    collection.modify(metadata={**(collection.metadata or {}), "embedding_model": "another-model"})
    student = auth("student-mismatch")

    refused = await ask(client, student, course_id, sciq_items()[0]["question"])
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "embedding_mismatch" and f"tutor reindex {course_id}" in error["message"]

    assert reindex(settings, "--all").returncode == 0
    answered = await ask(client, student, course_id, sciq_items()[0]["question"])
    assert answered.status_code == 200 and what_the_student_sees(answered)[1]


def test_reindex_wants_a_course_or_all(settings: Settings, db: AsyncEngine) -> None:
    assert reindex(settings).returncode == 2
    unknown = reindex(settings, "987654")
    assert unknown.returncode == 1 and "no_chunks" in unknown.stderr


async def test_a_course_being_ingested_is_not_reindexed(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, parts: Parts
) -> None:
    course_id = await ingest_course(settings, sessions, [("a.pdf", course_pdf(sciq_chapters(1, 1, 1)))])
    owner = Principal("teacher-chat", "teacher")
    async with sessions() as session, session.begin():
        await accept_upload(  # a second file's job, not run yet
            session,
            open_storage(settings),
            settings,
            uploader=owner,
            files=[UploadedFile("b.pdf", course_pdf(sciq_chapters(1, 1, 1, offset=10)))],
            title=None,
            description=None,
            course_id=course_id,
        )
    with pytest.raises(ConflictError, match="being ingested"):
        await reindex_course(sessions, parts.store, parts.embedder, course_id)
    assert parts.store.count(course_id) > 0  # its index is untouched
