"""Chunks live in PostgreSQL (course_chunks), written with their course and removed with their file or course."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ingestion import jobs
from ingestion.pipeline import Ingestor
from ingestion.storage import open_storage
from ingestion.uploads import UploadedFile, accept_upload
from tests.factories import course_pdf, ingest_course, sciq_chapters
from tests.retrieval.conftest import Parts
from tutor.identity import Principal, sign_in
from tutor.settings import Settings

TEACHER = "teacher-chunks"


async def _rows(engine: AsyncEngine, sql: str) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def test_every_indexed_chunk_is_a_row_with_its_citation_and_search_vector(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, parts: Parts
) -> None:
    course_id = await ingest_course(settings, sessions, [("bio.pdf", course_pdf(sciq_chapters(2, 2, 2)))])
    rows = await _rows(
        db,
        "SELECT c.chunk_id, c.text, c.file_id, c.filename, c.page_start, c.page_end, c.module_id, c.topic_id, "
        "c.week, c.topic_title, t.title, m.week, c.search_vector IS NOT NULL "
        f"FROM course_chunks c JOIN topics t ON t.id = c.topic_id JOIN modules m ON m.id = c.module_id "
        f"WHERE c.course_id = {course_id}",
    )
    indexed = parts.store.client.get_collection(f"course_{course_id}").get(include=["documents", "metadatas"])
    assert len(rows) == len(indexed["ids"]) > 4
    by_id = {r[0]: r for r in rows}
    for chunk_id, document, meta in zip(indexed["ids"], indexed["documents"], indexed["metadatas"], strict=True):
        row = by_id[chunk_id]  # the Chroma id is the row's chunk_id
        assert row[1] == document
        assert (row[2], row[3], row[4], row[5]) == (meta["file_id"], "bio.pdf", meta["page_start"], meta["page_end"])
        assert (row[6], row[7], row[8], row[9]) == (
            meta["module_id"],
            meta["topic_id"],
            meta["week"],
            meta["topic_title"],
        )
        assert row[9] == row[10] and row[8] == row[11] and row[12]
    # PostgreSQL's own full-text search finds a chunk by a word of its text.
    word = max(re.findall(r"[a-z]+", rows[0][1].lower()), key=len)
    found = await _rows(
        db,
        f"SELECT chunk_id FROM course_chunks WHERE course_id = {course_id} "
        f"AND search_vector @@ plainto_tsquery('english', '{word}')",
    )
    assert rows[0][0] in {f[0] for f in found}


async def test_a_job_that_fails_while_writing_its_course_leaves_no_rows(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, parts: Parts
) -> None:
    """The chunks are written in the course's transaction: the teacher deleting the file while its job runs
    fails the job at the chunks, and its weeks and topics go with them."""
    owner = Principal(TEACHER, "teacher")
    async with sessions() as session, session.begin():
        await sign_in(session, owner)
        receipt = await accept_upload(
            session,
            open_storage(settings),
            settings,
            uploader=owner,
            files=[UploadedFile("gone.pdf", course_pdf(sciq_chapters(1, 2, 1)))],
            title="Gone",
            description=None,
            course_id=None,
        )
    ingestor = Ingestor(settings, sessions, open_storage(settings), parts.store, parts.embedder)
    await jobs.start(sessions, receipt.job_id, None)
    plan = await ingestor._plan(receipt.job_id, receipt.course_id, [f.file_id for f in receipt.files])
    async with sessions() as session, session.begin():
        await session.execute(text("DELETE FROM source_files"))
    with pytest.raises(IntegrityError, match="fk_chunk_file"):
        await ingestor._write(receipt.job_id, receipt.course_id, plan)
    assert await _rows(db, "SELECT (SELECT count(*) FROM modules), (SELECT count(*) FROM topics)") == [(0, 0)]
    assert await _rows(db, "SELECT count(*) FROM course_chunks") == [(0,)]


async def test_deleting_a_file_or_its_course_removes_their_chunk_rows(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    auth: Callable[..., dict[str, str]],
) -> None:
    course_id = await ingest_course(
        settings,
        sessions,
        [("a.pdf", course_pdf(sciq_chapters(1, 2, 1))), ("b.pdf", course_pdf(sciq_chapters(1, 2, 1, offset=20)))],
        teacher=TEACHER,
    )
    per_file = dict(
        await _rows(engine, f"SELECT filename, count(*) FROM course_chunks WHERE course_id = {course_id} GROUP BY 1")
    )
    assert set(per_file) == {"a.pdf", "b.pdf"}
    (a_id,) = (await _rows(engine, "SELECT file_id FROM source_files WHERE filename = 'a.pdf'"))[0]
    teacher = auth(TEACHER, "teacher")

    assert (await client.delete(f"/api/files/{a_id}", headers=teacher)).status_code == 204
    assert await _rows(
        engine, f"SELECT filename, count(*) FROM course_chunks WHERE course_id = {course_id} GROUP BY 1"
    ) == [("b.pdf", per_file["b.pdf"])]
    assert (await client.delete(f"/api/courses/{course_id}", headers=teacher)).status_code == 204
    assert await _rows(engine, "SELECT count(*) FROM course_chunks") == [(0,)]
