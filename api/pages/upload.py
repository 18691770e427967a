"""Uploading PDFs from the console: a drop zone posts them, and the page follows the job's stages as they happen."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session, get_state
from api.filenames import from_form
from api.pages.render import render
from api.params import FormId
from api.ratelimit import hit
from api.state import AppState
from api.web_session import WebSession, csrf_protect, current_web_session, current_web_teacher
from db.models import Job
from ingestion.jobs import visible_job
from ingestion.storage import open_storage
from ingestion.uploads import spooled, submit_upload
from tutor.course_overview import managed_courses
from tutor.identity import Principal

router = APIRouter(include_in_schema=False)

# The pipeline's progress ranges (ingestion/pipeline.py reports), named as a teacher reads them.
STAGES = (
    (0, "Queued"),
    (2, "Reading the PDFs"),
    (25, "Finding weeks and topics"),
    (30, "Writing quizzes"),
    (35, "Indexing for the tutor"),
    (92, "Saving the course"),
)


class StageOut(BaseModel):
    name: str
    state: str  # done | current | waiting | failed


class UploadOut(BaseModel):
    job_id: str
    course_id: int
    created_course: bool
    files: list[str]
    duplicates: list[str]
    job_url: str


class JobProgressOut(BaseModel):
    job_id: str
    status: str
    progress: int
    message: str
    error: str | None
    course_id: int | None
    course_url: str | None
    stages: list[StageOut]


def job_progress(job: Job) -> JobProgressOut:
    status, progress = job.status or "pending", job.progress or 0
    current = 0 if status == "pending" else max(i for i, (low, _) in enumerate(STAGES) if progress >= low)
    stages = []
    for i, (_, name) in enumerate(STAGES):
        if status == "completed" or i < current:
            state = "done"
        elif i == current:
            state = "failed" if status == "failed" else "current"
        else:
            state = "waiting"
        stages.append(StageOut(name=name, state=state))
    course_id = (job.result or {}).get("course_id", (job.payload or {}).get("course_id"))
    if status == "failed" and (job.payload or {}).get("created_course"):
        course_id = None  # the course it was building was removed with the failure
    return JobProgressOut(
        job_id=job.job_id,
        status=status,
        progress=progress,
        message=job.message or "",
        error=job.error,
        course_id=course_id,
        course_url=f"/teach/courses/{course_id}" if course_id and status == "completed" else None,
        stages=stages,
    )


@router.get("/teach/upload")
async def upload_page(
    request: Request,
    course_id: int | None = None,
    user: Principal = Depends(current_web_teacher),
    web: WebSession = Depends(current_web_session),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> Response:
    courses = await managed_courses(session, user)
    s = state.settings
    return render(
        request,
        "teach/upload.html",
        web=web,
        user=user,
        courses=courses,
        selected=course_id,
        max_mb=s.max_upload_mb,
        max_files=s.max_files_per_upload,
    )


@router.post("/teach/api/uploads", status_code=202, response_model=UploadOut)
async def upload(
    request: Request,
    files: list[UploadFile] = File(...),
    title: str | None = Form(None),
    description: str | None = Form(None),
    course_id: FormId = None,
    user: Principal = Depends(current_web_teacher),
    _: WebSession = Depends(csrf_protect),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
) -> UploadOut:
    settings = state.settings
    await hit(request, f"upload:{user.user_id}", settings.rate_limit_uploads_per_hour, 3600, "uploads")
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
    return UploadOut(
        job_id=receipt.job_id,
        course_id=receipt.course_id,
        created_course=receipt.created_course,
        files=[f.filename for f in receipt.files],
        duplicates=[d.filename for d in receipt.duplicates],
        job_url=f"/teach/api/jobs/{receipt.job_id}",
    )


@router.get("/teach/api/jobs/{job_id}", response_model=JobProgressOut)
async def job_status(
    job_id: str, user: Principal = Depends(current_web_teacher), session: AsyncSession = Depends(get_session)
) -> JobProgressOut:
    return job_progress(await visible_job(session, user, job_id))
