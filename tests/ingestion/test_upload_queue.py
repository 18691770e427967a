"""An upload whose job cannot be queued leaves nothing behind: no course, no file rows, no stored PDFs."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ingestion.celery_app import create_celery
from ingestion.storage import open_storage
from ingestion.uploads import UploadedFile, submit_upload
from tests.factories import course_pdf, sciq_chapters
from tutor.errors import TutorError
from tutor.identity import Principal, sign_in
from tutor.ports import free_port
from tutor.settings import Settings

TEACHER = Principal("teacher-queue", "teacher")


async def test_an_upload_whose_job_cannot_be_queued_is_undone(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    # A broker nobody listens on: the files are accepted and committed first, then the job cannot be sent.
    unreachable = create_celery(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"}))
    storage = open_storage(settings)
    stored_before = set(settings.files_dir.rglob("*.pdf"))
    async with sessions() as session:
        await sign_in(session, TEACHER)
        started = time.monotonic()
        with pytest.raises(TutorError) as refused:
            await submit_upload(
                session,
                storage,
                settings,
                unreachable,
                uploader=TEACHER,
                files=[UploadedFile("cells.pdf", course_pdf(sciq_chapters(1, 1, 1, offset=80)))],
                title="Cells",
                description=None,
                course_id=None,
            )
    assert (refused.value.code, refused.value.status) == ("queue_unavailable", 503)
    assert time.monotonic() - started < 10  # the teacher hears at once (it took 20 s of reconnects)
    async with db.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM courses")) == 0
        assert await conn.scalar(text("SELECT count(*) FROM source_files")) == 0
        job = (await conn.execute(text("SELECT status, error FROM job_queue"))).one()
    assert job.status == "failed" and "queue is unavailable" in job.error
    assert set(settings.files_dir.rglob("*.pdf")) == stored_before
