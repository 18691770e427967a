"""Hybrid retrieval: the lexical ranking (BM25 over the chunks in PostgreSQL) finds what the dense one misses."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.chat.sse import parse_sse
from tests.factories import course_pdf, ingest_course, sciq_chapters
from tests.retrieval.conftest import CODE, Parts, chapters_with_code
from tutor.settings import Settings

TEACHER = "teacher-hybrid"
QUESTION = f"What is {CODE}?"


async def test_hybrid_retrieval_finds_a_chunk_by_a_rare_code_that_the_dense_list_misses(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, parts: Parts
) -> None:
    course_id = await ingest_course(settings, sessions, [("geology.pdf", course_pdf(chapters_with_code()))])
    dense = parts.store.query(course_id, parts.embedder.embed_query(QUESTION), k=5, embedding_model=parts.embedder.name)
    assert dense and not any(CODE in h.text for h in dense)  # what dense retrieval alone would cite

    hits = await parts.retriever(sessions).retrieve(course_id, QUESTION, k=5)
    assert CODE in hits[0].text
    assert hits[0].metadata.filename == "geology.pdf" and hits[0].lexical > 0.9


async def test_a_student_asking_for_the_code_gets_it_cited(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
) -> None:
    course_id = await ingest_course(settings, sessions, [("geology.pdf", course_pdf(chapters_with_code()))])
    response = await client.post(
        "/api/chat/stream", json={"course_id": course_id, "message": QUESTION}, headers=auth("student-hybrid")
    )
    events = parse_sse(response.text)
    citations = [d for n, d in events if n == "citation"]
    assert citations and CODE in citations[0]["snippet"] + "".join(d["text"] for n, d in events if n == "token")


async def test_a_deleted_files_chunks_are_never_ranked_again(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    auth: Callable[..., dict[str, str]],
    parts: Parts,
) -> None:
    course_id = await ingest_course(
        settings,
        sessions,
        [("notes.pdf", course_pdf(chapters_with_code())), ("more.pdf", course_pdf(sciq_chapters(1, 2, 1, offset=30)))],
        teacher=TEACHER,
    )
    retriever = parts.retriever(sessions)
    assert CODE in (await retriever.retrieve(course_id, QUESTION, k=5))[0].text  # the lexical index is built now
    async with engine.connect() as conn:
        file_id = await conn.scalar(text("SELECT file_id FROM source_files WHERE filename = 'notes.pdf'"))
    assert (await client.delete(f"/api/files/{file_id}", headers=auth(TEACHER, "teacher"))).status_code == 204

    hits = await retriever.retrieve(course_id, QUESTION, k=5)
    assert hits and all(h.metadata.filename == "more.pdf" for h in hits)
