"""Background jobs: status, progress, message, timestamps and result of a teacher's uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_session
from db.models import Job
from ingestion.jobs import job_course_id, list_jobs, visible_job
from tutor.identity import Principal

router = APIRouter(tags=["jobs"])


class JobOut(BaseModel):
    job_id: str
    task_id: str | None
    job_type: str
    status: str | None
    progress: int | None
    message: str | None
    result: dict[str, Any] | None
    error: str | None
    created_by: str | None
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    course_id: int | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            job_id=job.job_id,
            task_id=job.task_id,
            job_type=job.job_type,
            status=job.status,
            progress=job.progress,
            message=job.message,
            result=job.result,
            error=job.error,
            created_by=job.created_by,
            created_at=job.created_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
            course_id=job_course_id(job),
        )


@router.get("/api/jobs/{job_id}", response_model=JobOut, summary="One job's status, progress and result")
async def read_job(
    job_id: str, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> JobOut:
    return JobOut.of(await visible_job(session, user, job_id))


@router.get("/api/jobs", response_model=list[JobOut], summary="Your jobs, newest first")
async def jobs(
    limit: int = Query(50, ge=1, le=200),
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[JobOut]:
    return [JobOut.of(j) for j in await list_jobs(session, user, limit=limit)]
