"""Accepting an upload: validate every file first, then store files, rows and a pending job, then enqueue.

Uploads are spooled to temporary files, never held whole in memory, and everything that reads or writes them
(inspection, hashing, storing) runs in a thread, so the event loop goes on serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from celery import Celery
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course, Job, SourceFile
from ingestion.errors import IngestionError
from ingestion.jobs import PDF_PROCESSING
from ingestion.pdf import inspect_pdf
from ingestion.storage import FileStorage
from tutor.errors import NotFoundError, TutorError
from tutor.identity import Principal, utcnow
from tutor.settings import Settings

log = logging.getLogger(__name__)
SPOOL_CHUNK = 1024 * 1024

# Upload-time checks that fail map to these statuses; anything else about a PDF fails the job instead.
STATUS_BY_CODE = {"not_a_pdf": 415, "too_many_pages": 413}


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    data: bytes | Path  # the content, or the temporary file it was spooled to

    @property
    def size(self) -> int:
        return len(self.data) if isinstance(self.data, bytes) else self.data.stat().st_size

    def checksum(self) -> str:
        if isinstance(self.data, bytes):
            return hashlib.sha256(self.data).hexdigest()
        with self.data.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass(frozen=True)
class AcceptedFile:
    file_id: str
    filename: str
    pages: int
    size: int
    checksum: str


@dataclass(frozen=True)
class DuplicateFile:
    filename: str
    existing_file_id: str


@dataclass
class UploadReceipt:
    job_id: str
    task_id: str
    course_id: int
    created_course: bool
    files: list[AcceptedFile] = field(default_factory=list)
    duplicates: list[DuplicateFile] = field(default_factory=list)
    # Where storage.put put each accepted file: what a clean-up deletes (an S3 location carries its prefix).
    locations: list[str] = field(default_factory=list)


class UploadError(TutorError):
    status = 422


def _spool(source: BinaryIO, directory: Path, limit: int) -> Path:
    """Copy an upload to a temporary file, at most one byte past the size limit (enough to refuse it)."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".pdf", delete=False) as out:
        left = limit + 1
        while left > 0 and (chunk := source.read(min(SPOOL_CHUNK, left))):
            out.write(chunk)
            left -= len(chunk)
    return Path(out.name)


@asynccontextmanager
async def spooled(sources: list[tuple[str, BinaryIO]], settings: Settings) -> AsyncIterator[list[UploadedFile]]:
    """Uploads as files on disk under the data dir (not /tmp, often memory-backed), removed afterwards."""
    directory, limit = settings.data_dir / "spool", settings.max_upload_mb * 1024 * 1024
    paths: list[Path] = []
    try:
        for _, source in sources:
            paths.append(await asyncio.to_thread(_spool, source, directory, limit))
        yield [UploadedFile(name, path) for (name, _), path in zip(sources, paths, strict=True)]
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


def validate_files(files: list[UploadedFile], settings: Settings) -> list[tuple[UploadedFile, int, str]]:
    """Every file checked before anything is written: one bad file refuses the whole upload."""
    if not files:
        raise UploadError("no_files", "attach at least one PDF in the `files` field")
    if len(files) > settings.max_files_per_upload:
        raise UploadError("too_many_files", f"at most {settings.max_files_per_upload} files per upload")
    limit = settings.max_upload_mb * 1024 * 1024
    checked = []
    for f in files:
        if f.size > limit:
            raise UploadError(
                "file_too_large",
                f"{f.filename}: {f.size / 2**20:.1f} MB is over the {settings.max_upload_mb} MB limit",
                status=413,
            )
        try:
            pages = inspect_pdf(f.data, f.filename, max_pages=settings.max_pages)
        except IngestionError as exc:
            raise UploadError(exc.code, f"{f.filename}: {exc.message}", status=STATUS_BY_CODE.get(exc.code)) from None
        checked.append((f, pages, f.checksum()))
    return checked


async def accept_upload(
    session: AsyncSession,
    storage: FileStorage,
    settings: Settings,
    *,
    uploader: Principal,
    files: list[UploadedFile],
    title: str | None,
    description: str | None,
    course_id: int | None,
) -> UploadReceipt:
    if course_id is not None:
        # Authorization before the files are looked at: an outsider learns nothing from how a file is checked.
        existing = (await session.execute(select(Course).where(Course.course_id == course_id))).scalar_one_or_none()
        if existing is None or not (uploader.is_admin or existing.created_by == uploader.user_id):
            raise NotFoundError("course_not_found", f"no course {course_id} of yours")
    checked = await asyncio.to_thread(validate_files, files, settings)
    created = course_id is None
    if created:
        if not title or not title.strip():
            raise UploadError("title_required", "a new course needs a `title` (or pass `course_id` to add to one)")
        if len(title) > 500:
            raise UploadError("title_too_long", "a course title has at most 500 characters")
        course = Course(title=title.strip(), description=description, created_by=uploader.user_id, status="draft")
        session.add(course)
        await session.flush()
        course_id = course.course_id

    known = dict(
        (
            await session.execute(
                select(SourceFile.checksum, SourceFile.file_id).where(SourceFile.course_id == course_id)
            )
        ).all()
    )
    assert course_id is not None
    job_id, task_id = f"job_{uuid.uuid4().hex}", str(uuid.uuid4())
    receipt = UploadReceipt(job_id=job_id, task_id=task_id, course_id=course_id, created_course=created)
    try:
        for upload, pages, checksum in checked:
            if checksum in known:
                receipt.duplicates.append(DuplicateFile(upload.filename, known[checksum]))
                continue
            file_id = f"file_{uuid.uuid4().hex}"
            known[checksum] = file_id
            location = await asyncio.to_thread(storage.put, f"{course_id}/{file_id}.pdf", upload.data)
            receipt.locations.append(location)
            session.add(
                SourceFile(
                    file_id=file_id,
                    course_id=course_id,
                    filename=upload.filename[:500],
                    file_path=location,
                    file_size=upload.size,
                    file_type="pdf",
                    uploaded_by=uploader.user_id,
                    checksum=checksum,
                )
            )
            receipt.files.append(AcceptedFile(file_id, upload.filename, pages, upload.size, checksum))
    except BaseException:  # the rows roll back with the caller's transaction; the stored files go too
        await _delete_stored(storage, receipt.locations)
        raise
    if not receipt.files:
        names = ", ".join(f"{d.filename} (as {d.existing_file_id})" for d in receipt.duplicates)
        raise TutorError("duplicate_files", f"already in course {course_id}: {names}", status=409)
    session.add(
        Job(
            job_id=job_id,
            task_id=task_id,
            job_type=PDF_PROCESSING,
            status="pending",
            progress=0,
            message=f"Queued: {len(receipt.files)} PDF(s) for course {course_id}",
            created_by=uploader.user_id,
            payload={
                "course_id": course_id,
                "created_course": created,
                "file_ids": [f.file_id for f in receipt.files],
            },
        )
    )
    return receipt


async def abandon_upload(session: AsyncSession, storage: FileStorage, receipt: UploadReceipt, error: str) -> None:
    """Undo an accepted upload whose job could not be queued: the job fails visibly, its new course (or its files
    in an existing one) is removed; the stored files go once that is committed, by the locations put returned."""
    await session.execute(
        update(Job)
        .where(Job.job_id == receipt.job_id)
        .values(status="failed", error=error, message=f"Failed: {error}", completed_at=utcnow())
    )
    if receipt.created_course:
        await session.execute(delete(Course).where(Course.course_id == receipt.course_id))
    else:
        await session.execute(delete(SourceFile).where(SourceFile.file_id.in_([f.file_id for f in receipt.files])))
    await session.commit()
    await _delete_stored(storage, receipt.locations)


async def _delete_stored(storage: FileStorage, locations: list[str]) -> None:
    for location in locations:
        try:
            await asyncio.to_thread(storage.delete, location)
        except Exception:  # an orphaned file is a leak, not a failure the teacher should see instead of the cause
            log.warning("could not delete stored upload %s", location, exc_info=True)


async def submit_upload(
    session: AsyncSession,
    storage: FileStorage,
    settings: Settings,
    celery: Celery,
    *,
    uploader: Principal,
    files: list[UploadedFile],
    title: str | None,
    description: str | None,
    course_id: int | None,
) -> UploadReceipt:
    """Accept the files, commit them with a pending job, and queue the job. If the queue is unreachable the
    upload is undone (`abandon_upload`) and a 503 `queue_unavailable` raised."""
    receipt = await accept_upload(
        session,
        storage,
        settings,
        uploader=uploader,
        files=files,
        title=title,
        description=description,
        course_id=course_id,
    )
    await session.commit()  # a worker may pick the job up at once: its rows must be there
    try:
        await asyncio.to_thread(
            celery.send_task,
            "tutor.ingest",
            args=[receipt.job_id],
            task_id=receipt.task_id,
            queue=settings.celery_queue,
        )
    except Exception as exc:
        log.exception("could not enqueue job %s", receipt.job_id)
        await abandon_upload(session, storage, receipt, f"the job queue is unavailable: {exc}")
        raise TutorError("queue_unavailable", "the job queue is unavailable; try again shortly", status=503) from None
    return receipt
