"""Uploads off the event loop and cleaned up by where they were stored: a big upload stalls no one, a failed
enqueue leaves no file or row behind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from ingestion.celery_app import create_celery
from tests.factories import course_pdf, noise_pdf, sciq_chapters, unique_user
from tests.servers import S3_ENV, s3_server
from tutor.ports import free_port
from tutor.settings import Settings

Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
def big_pdfs() -> list[bytes]:
    """A big multi-file upload: as many files as one upload may carry, each a few MB that do not compress."""
    return [noise_pdf(seed=i) for i in range(20)]


def _stored_files(settings: Settings) -> set[Path]:
    root = settings.files_dir
    return set(root.rglob("*.pdf")) if root.exists() else set()


async def _count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(sql)))


def _lose_the_broker(app: Any, settings: Settings) -> None:
    """The broker goes away: a real Celery client whose Redis is a port where nothing listens (retried once)."""
    gone = create_celery(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"}))
    once = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
    gone.conf.update(task_publish_retry_policy=once, result_backend_transport_options={"retry_policy": once})
    app.state.tutor.celery = gone


@pytest.fixture
def s3_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A real S3 server (moto's, on a port) with a bucket; uploads stored under a prefix."""
    pytest.importorskip("moto.server")
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    with s3_server("tutor-uploads") as endpoint:
        yield settings.model_copy(
            update={
                "storage_backend": "s3",
                "s3_bucket": "tutor-uploads",
                "s3_endpoint_url": endpoint,
                "s3_prefix": "school-a/",
            }
        )


async def test_an_upload_to_s3_whose_job_cannot_be_queued_leaves_no_object_under_the_prefix(
    s3_settings: Settings, auth: Auth, db: AsyncEngine
) -> None:
    import boto3

    bucket = boto3.client("s3", endpoint_url=s3_settings.s3_endpoint_url)
    app = create_app(s3_settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        teacher = auth(unique_user("teacher-s3"), "teacher")
        files = [("files", ("a.pdf", course_pdf(sciq_chapters(1, 1, 1)), "application/pdf"))]
        kept = await client.post("/api/upload-pdfs", headers=teacher, files=files, data={"title": "Kept"})
        assert kept.status_code == 202, kept.text
        (stored,) = [o["Key"] for o in bucket.list_objects_v2(Bucket="tutor-uploads")["Contents"]]
        assert stored.startswith("school-a/")
        _lose_the_broker(app, s3_settings)
        more = [("files", ("b.pdf", course_pdf(sciq_chapters(1, 1, 1, offset=10)), "application/pdf"))]
        refused = await client.post("/api/upload-pdfs", headers=teacher, files=more, data={"title": "Lost"})
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "queue_unavailable"
    assert [o["Key"] for o in bucket.list_objects_v2(Bucket="tutor-uploads")["Contents"]] == [stored]


async def test_an_upload_whose_job_cannot_be_queued_leaves_no_file_course_or_pending_job(
    settings: Settings, auth: Auth, db: AsyncEngine
) -> None:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        teacher = auth(unique_user("teacher-queue"), "teacher")
        files = [("files", ("a.pdf", course_pdf(sciq_chapters(1, 1, 1)), "application/pdf"))]
        kept = await client.post("/api/upload-pdfs", headers=teacher, files=files, data={"title": "Kept"})
        assert kept.status_code == 202, kept.text
        before = _stored_files(settings)
        _lose_the_broker(app, settings)
        more = [
            ("files", (f"{n}.pdf", course_pdf(sciq_chapters(1, 1, 1, offset=10 * n)), "application/pdf"))
            for n in (1, 2)
        ]
        new_course = await client.post("/api/upload-pdfs", headers=teacher, files=more, data={"title": "Lost"})
        added = await client.post(
            "/api/upload-pdfs", headers=teacher, files=more, data={"course_id": str(kept.json()["course_id"])}
        )
    for refused in (new_course, added):
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "queue_unavailable"
    assert _stored_files(settings) == before  # every file stored for them is gone again
    assert await _count(db, "SELECT count(*) FROM courses") == 1
    assert await _count(db, "SELECT count(*) FROM source_files") == 1
    assert await _count(db, "SELECT count(*) FROM job_queue WHERE status = 'failed'") == 2
    assert not list((settings.data_dir / "spool").glob("*"))  # spooled copies are removed too


async def test_other_requests_are_answered_while_a_large_upload_is_stored(
    settings: Settings, auth: Auth, client: httpx.AsyncClient, big_pdfs: list[bytes]
) -> None:
    teacher = auth(unique_user("teacher-big"), "teacher")
    files = [("files", (f"big{i}.pdf", pdf, "application/pdf")) for i, pdf in enumerate(big_pdfs)]
    before = _stored_files(settings)
    uploading = asyncio.create_task(
        client.post("/api/upload-pdfs", headers=teacher, files=files, data={"title": "Big"})
    )
    # Its files checked and hashed, the upload is storing them: the first one is in place.
    deadline = asyncio.get_running_loop().time() + 120
    while not _stored_files(settings) - before:
        assert not uploading.done(), uploading.result().text
        assert asyncio.get_running_loop().time() < deadline, "no file of the upload was ever stored"
        await asyncio.sleep(0.002)
    assert (await client.get("/healthz")).status_code == 200
    stored_when_answered = len(_stored_files(settings) - before)
    response = await uploading
    assert response.status_code == 202, response.text
    assert len(response.json()["files"]) == len(big_pdfs) == len(_stored_files(settings) - before)
    # Answered in the middle of the upload's work, not after it: the event loop was never held by it.
    assert stored_when_answered < len(big_pdfs)
