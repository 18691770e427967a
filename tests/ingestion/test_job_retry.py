"""Jobs are idempotent: a rerun duplicates nothing, and a worker killed mid-job is retried to completion once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import Job
from ingestion.celery_app import create_celery
from ingestion.pipeline import Ingestor
from ingestion.storage import open_storage
from ingestion.uploads import UploadedFile, accept_upload
from tests.conftest import REPO, settings_env
from tests.factories import course_pdf, sciq_chapters
from tutor.identity import Principal, sign_in
from tutor.settings import Settings

TEACHER = Principal("teacher-retry", "teacher")


async def _new_job(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    pdf: bytes,
    *,
    name: str = "retry.pdf",
    course_id: int | None = None,
) -> tuple[str, int]:
    """An upload's pending job, for a new course or (with `course_id`) adding to one: (job id, course id)."""
    async with sessions() as session, session.begin():
        await sign_in(session, TEACHER)
        receipt = await accept_upload(
            session,
            open_storage(settings),
            settings,
            uploader=TEACHER,
            files=[UploadedFile(name, pdf)],
            title=None if course_id else "Retry",
            description=None,
            course_id=course_id,
        )
    return receipt.job_id, receipt.course_id


async def _scalar(engine: AsyncEngine, sql: str) -> object:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql))


@pytest.fixture(scope="module")
def ingestor_parts(settings: Settings):  # type: ignore[no-untyped-def]
    from tutor.embeddings import get_embedder
    from tutor.vectorstore import open_vector_store

    return get_embedder(settings), open_vector_store(settings)


async def test_rerunning_a_job_duplicates_no_rows_or_chunks(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, ingestor_parts
) -> None:  # type: ignore[no-untyped-def]
    embedder, store = ingestor_parts
    job_id, course_id = await _new_job(sessions, settings, course_pdf(sciq_chapters(2, 2, 2)))
    ingestor = Ingestor(settings, sessions, open_storage(settings), store, embedder)
    await ingestor.run(job_id)
    modules = await _scalar(db, f"SELECT count(*) FROM modules WHERE course_id = {course_id}")
    chunks = store.count(course_id)
    assert modules and chunks

    await ingestor.run(job_id)  # a duplicate delivery of a finished job: nothing happens
    assert await _scalar(db, f"SELECT count(*) FROM modules WHERE course_id = {course_id}") == modules

    # A crash after the chunks were stored but before the rows committed: the rerun stores each chunk once.
    async with sessions() as session, session.begin():
        await session.execute(text(f"DELETE FROM modules WHERE course_id = {course_id}"))
        await session.execute(update(Job).where(Job.job_id == job_id).values(status="processing"))
    await ingestor.run(job_id)
    assert await _scalar(db, f"SELECT count(*) FROM modules WHERE course_id = {course_id}") == modules
    assert store.count(course_id) == chunks
    assert await _scalar(db, f"SELECT status FROM job_queue WHERE job_id = '{job_id}'") == "completed"
    await _assert_chunks_point_at_rows(db, store, course_id)


async def test_a_job_delivered_twice_at_once_builds_the_course_once_with_chunks_citing_its_rows(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, ingestor_parts
) -> None:  # type: ignore[no-untyped-def]
    embedder, store = ingestor_parts
    job_id, course_id = await _new_job(sessions, settings, course_pdf(sciq_chapters(3, 3, 2, offset=20)))
    # Three workers handed the same message (redeliveries while the first still runs), as the task runs it.
    await asyncio.gather(
        *(Ingestor(settings, sessions, open_storage(settings), store, embedder).run(job_id) for _ in range(3))
    )
    async with db.connect() as conn:
        status, result = (
            await conn.execute(text(f"SELECT status, result FROM job_queue WHERE job_id = '{job_id}'"))
        ).one()
        rows = {
            table: await conn.scalar(text(sql))
            for table, sql in {
                "modules": f"SELECT count(*) FROM modules WHERE course_id = {course_id}",
                "topics": f"SELECT count(*) FROM topics t JOIN modules m ON m.id = t.module_id "
                f"WHERE m.course_id = {course_id}",
                "quizzes": f"SELECT count(*) FROM quizzes WHERE course_id = {course_id}",
                "questions": f"SELECT count(*) FROM quiz_questions q JOIN quizzes z ON z.quiz_id = q.quiz_id "
                f"WHERE z.course_id = {course_id}",
            }.items()
        }
    assert status == "completed", result
    assert rows == {k: result[k] for k in rows}
    assert store.count(course_id) == result["chunks"]
    await _assert_chunks_point_at_rows(db, store, course_id)


async def _assert_chunks_point_at_rows(db: AsyncEngine, store, course_id: int) -> None:  # type: ignore[no-untyped-def]
    """Every chunk cites a module, topic and week that exist: citations lead to the right place in the course."""
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT m.id, t.id, m.week FROM modules m JOIN topics t ON t.module_id = m.id "
                    f"WHERE m.course_id = {course_id}"
                )
            )
        ).all()
    known = {(int(m), int(t), int(w)) for m, t, w in rows}
    stored = store.client.get_collection(f"course_{course_id}").get(include=["metadatas"])["metadatas"]
    cited = {(int(m["module_id"]), int(m["topic_id"]), int(m["week"])) for m in stored}
    assert cited and cited <= known, cited - known


async def test_two_jobs_adding_to_one_course_at_once_get_consecutive_weeks_and_matching_chunks(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, ingestor_parts
) -> None:  # type: ignore[no-untyped-def]
    embedder, store = ingestor_parts
    first, course_id = await _new_job(sessions, settings, course_pdf(sciq_chapters(2, 2, 1)))
    await Ingestor(settings, sessions, open_storage(settings), store, embedder).run(first)
    # A long job and a short one: the short one lands while the long one embeds with its weeks already planned.
    uploads = [
        ("long.pdf", course_pdf(sciq_chapters(8, 3, 3, offset=40))),
        ("short.pdf", course_pdf(sciq_chapters(2, 2, 1, offset=90))),
    ]
    jobs_ = [(await _new_job(sessions, settings, pdf, name=name, course_id=course_id))[0] for name, pdf in uploads]
    await asyncio.gather(
        *(Ingestor(settings, sessions, open_storage(settings), store, embedder).run(job_id) for job_id in jobs_)
    )

    for job_id in jobs_:
        assert await _scalar(db, f"SELECT status FROM job_queue WHERE job_id = '{job_id}'") == "completed"
    async with db.connect() as conn:
        weeks = (
            await conn.scalars(text(f"SELECT week FROM modules WHERE course_id = {course_id} ORDER BY week"))
        ).all()
    assert list(weeks) == list(range(1, len(weeks) + 1))
    await _assert_chunks_point_at_rows(db, store, course_id)


def _start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        env=settings_env(settings),
        cwd=REPO,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.slow
async def test_a_worker_killed_mid_job_leaves_it_retryable_and_the_retry_completes_once(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, tmp_path: Path
) -> None:
    # Its own queue and a short visibility timeout, so the broker redelivers the unacked job quickly.
    local = settings.model_copy(
        update={"celery_queue": f"kill-{uuid.uuid4().hex[:6]}", "broker_visibility_timeout_s": 5}
    )
    job_id, course_id = await _new_job(sessions, local, course_pdf(sciq_chapters(12, 4, 3)))
    first = _start_worker(local, tmp_path / "w1.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        create_celery(local).send_task("tutor.ingest", args=[job_id], queue=local.celery_queue)

        async def progress() -> tuple[str, int]:
            async with db.connect() as conn:
                row = (
                    await conn.execute(text(f"SELECT status, progress FROM job_queue WHERE job_id = '{job_id}'"))
                ).one()
                return str(row[0]), int(row[1] or 0)

        deadline = asyncio.get_running_loop().time() + 120
        while (await progress())[1] < 35:  # embedding has begun: the job is well under way
            assert asyncio.get_running_loop().time() < deadline, await progress()
            await asyncio.sleep(0.1)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        assert (await progress())[0] == "processing"

        second = _start_worker(local, tmp_path / "w2.log")
        deadline = asyncio.get_running_loop().time() + 180
        while (await progress())[0] != "completed":
            assert asyncio.get_running_loop().time() < deadline, (
                await progress(),
                (tmp_path / "w2.log").read_text()[-3000:],
            )
            await asyncio.sleep(0.2)
    finally:
        for proc in (first, second):
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
    async with db.connect() as conn:
        result = (await conn.execute(text(f"SELECT result FROM job_queue WHERE job_id = '{job_id}'"))).scalar_one()
        modules = await conn.scalar(text(f"SELECT count(*) FROM modules WHERE course_id = {course_id}"))
    assert modules == result["modules"]
    from tutor.vectorstore import open_vector_store

    assert open_vector_store(local).count(course_id) == result["chunks"]
