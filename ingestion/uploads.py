"""Accepting an upload: validate every file first, then store files, rows and a pending job, then enqueue."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

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

# Upload-time checks that fail map to these statuses; anything else about a PDF fails the job instead.
STATUS_BY_CODE = {"not_a_pdf": 415, "too_many_pages": 413}


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    data: bytes


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


class UploadError(TutorError):
    status = 422


def validate_files(files: list[UploadedFile], settings: Settings) -> list[tuple[UploadedFile, int, str]]:
    """Every file checked before anything is written: one bad file refuses the whole upload."""
    if not files:
        raise UploadError("no_files", "attach at least one PDF in the `files` field")
    if len(files) > settings.max_files_per_upload:
        raise UploadError("too_many_files", f"at most {settings.max_files_per_upload} files per upload")
    limit = settings.max_upload_mb * 1024 * 1024
    checked = []
    for f in files:
        if len(f.data) > limit:
            raise UploadError(
                "file_too_large",
                f"{f.filename}: {len(f.data) / 2**20:.1f} MB is over the {settings.max_upload_mb} MB limit",
                status=413,
            )
        try:
            pages = inspect_pdf(f.data, f.filename, max_pages=settings.max_pages)
        except IngestionError as exc:
            raise UploadError(exc.code, f"{f.filename}: {exc.message}", status=STATUS_BY_CODE.get(exc.code)) from None
        checked.append((f, pages, hashlib.sha256(f.data).hexdigest()))
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
    checked = validate_files(files, settings)
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
    for upload, pages, checksum in checked:
        if checksum in known:
            receipt.duplicates.append(DuplicateFile(upload.filename, known[checksum]))
            continue
        file_id = f"file_{uuid.uuid4().hex}"
        known[checksum] = file_id
        location = storage.put(f"{course_id}/{file_id}.pdf", upload.data)
        session.add(
            SourceFile(
                file_id=file_id,
                course_id=course_id,
                filename=upload.filename[:500],
                file_path=location,
                file_size=len(upload.data),
                file_type="pdf",
                uploaded_by=uploader.user_id,
                checksum=checksum,
            )
        )
        receipt.files.append(AcceptedFile(file_id, upload.filename, pages, len(upload.data), checksum))
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


async def enqueue_upload(
    session: AsyncSession, storage: FileStorage, celery: Any, settings: Settings, receipt: UploadReceipt
) -> None:
    """Commit the accepted upload, then hand its job to the workers. If the queue cannot take it, nothing is left
    half-done: the job fails visibly, and the course it created (or the files it added) are removed."""
    await session.commit()
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
        file_ids = [f.file_id for f in receipt.files]
        await session.execute(
            update(Job)
            .where(Job.job_id == receipt.job_id)
            .values(status="failed", error=f"the job queue is unavailable: {exc}", completed_at=utcnow())
        )
        if receipt.created_course:
            await session.execute(delete(Course).where(Course.course_id == receipt.course_id))
        else:
            await session.execute(delete(SourceFile).where(SourceFile.file_id.in_(file_ids)))
        await session.commit()
        for f in receipt.files:
            storage.delete(f"{receipt.course_id}/{f.file_id}.pdf")
        raise TutorError("queue_unavailable", "the job queue is unavailable; try again shortly", status=503) from None
