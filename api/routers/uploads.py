"""POST /api/upload-pdfs: a teacher's PDFs become a pending ingestion job, answered with 202 at once."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_teacher
from api.deps import get_session, get_state
from api.filenames import from_form
from api.params import FormId
from api.ratelimit import limit
from api.state import AppState
from ingestion.storage import open_storage
from ingestion.uploads import UploadError, spooled, submit_upload
from tutor.identity import Principal

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
    sources = [(from_form(f.filename or "upload.pdf"), f.file) for f in files]
    async with spooled(sources, settings) as uploads:
        receipt = await submit_upload(
            session,
            open_storage(settings),
            settings,
            state.celery,
            uploader=user,
            files=uploads,
            title=title,
            description=description,
            course_id=course_id,
        )
    return UploadAccepted(
        job_id=receipt.job_id,
        task_id=receipt.task_id,
        course_id=receipt.course_id,
        created_course=receipt.created_course,
        files=[AcceptedFileOut(**vars(f)) for f in receipt.files],
        duplicates=[DuplicateOut(**vars(d)) for d in receipt.duplicates],
        job_url=f"/api/jobs/{receipt.job_id}",
    )
