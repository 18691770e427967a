"""POST /api/upload-pdfs: a teacher's PDFs become a pending ingestion job, answered with 202 at once."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_teacher
from api.deps import get_session, get_state
from api.params import FormId
from api.ratelimit import limit
from api.state import AppState
from ingestion.storage import open_storage
from ingestion.uploads import UploadError, abandon_upload, accept_upload, spooled
from tutor.errors import TutorError
from tutor.identity import Principal

log = logging.getLogger(__name__)
router = APIRouter(tags=["files"])


class AcceptedFileOut(BaseModel):
    file_id: str
    filename: str
    pages: int
    size: int
    checksum: str


class DuplicateOut(BaseModel):
    filename: str
    existing_file_id: str


class UploadAccepted(BaseModel):
    job_id: str
    task_id: str
    course_id: int
    created_course: bool
    status: str = "pending"
    files: list[AcceptedFileOut]
    duplicates: list[DuplicateOut]
    job_url: str


@router.post(
    "/api/upload-pdfs",
    status_code=202,
    response_model=UploadAccepted,
    summary="Upload course PDFs; a background job builds (or extends) the course",
    responses={409: {"description": "every file is already in the course"}, 413: {}, 415: {}, 422: {}},
)
async def upload_pdfs(
    files: list[UploadFile] = File(..., description="One or more PDF files"),
    title: str | None = Form(None, description="Title of a new course"),
    description: str | None = Form(None),
    course_id: FormId = None,
    user: Principal = Depends(current_teacher),
    _: Principal = Depends(limit("upload")),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> UploadAccepted:
    settings = state.settings
    if len(files) > settings.max_files_per_upload:
        raise UploadError("too_many_files", f"at most {settings.max_files_per_upload} files per upload")
    storage = open_storage(settings)
    async with spooled([(f.filename or "upload.pdf", f.file) for f in files], settings) as uploads:
        receipt = await accept_upload(
            session,
            storage,
            settings,
            uploader=user,
            files=uploads,
            title=title,
            description=description,
            course_id=course_id,
        )
    await session.commit()
    try:
        await asyncio.to_thread(
            state.celery.send_task,
            "tutor.ingest",
            args=[receipt.job_id],
            task_id=receipt.task_id,
            queue=settings.celery_queue,
        )
    except Exception as exc:
        log.exception("could not enqueue job %s", receipt.job_id)
        # Nothing may be left half-done: the job fails visibly and its course or files are removed.
        await abandon_upload(session, storage, receipt, f"the job queue is unavailable: {exc}")
        raise TutorError("queue_unavailable", "the job queue is unavailable; try again shortly", status=503) from None
    return UploadAccepted(
        job_id=receipt.job_id,
        task_id=receipt.task_id,
        course_id=receipt.course_id,
        created_course=receipt.created_course,
        files=[AcceptedFileOut(**vars(f)) for f in receipt.files],
        duplicates=[DuplicateOut(**vars(d)) for d in receipt.duplicates],
        job_url=f"/api/jobs/{receipt.job_id}",
    )
