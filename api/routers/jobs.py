"""Background jobs: status, progress, message, timestamps and result of a teacher's uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_session
from db.models import Job
from ingestion.jobs import get_job
from tutor.errors import NotFoundError
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
    worker: str | None = None  # the worker running it (stalled: the one that stopped)
    heartbeat_at: datetime | None = None
    attempts: int = 0

    @classmethod
    def of(cls, job: Job) -> JobOut:
        course_id = (job.result or {}).get("course_id", (job.payload or {}).get("course_id"))
        if job.status == "failed" and (job.payload or {}).get("created_course"):
            course_id = None  # the course it was building was removed with the failure
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
            course_id=course_id,
            worker=job.worker,
            heartbeat_at=job.heartbeat_at,
            attempts=job.attempts or 0,
        )


def _visible(job: Job | None, user: Principal) -> Job:
    if job is None or not (user.is_admin or job.created_by == user.user_id):
        raise NotFoundError("job_not_found", "no such job")
    return job


@router.get("/api/jobs/{job_id}", response_model=JobOut, summary="One job's status, progress and result")
async def read_job(
    job_id: str, user: Principal = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> JobOut:
    return JobOut.of(_visible(await get_job(session, job_id), user))


@router.get("/api/jobs", response_model=list[JobOut], summary="Your jobs, newest first")
async def list_jobs(
    limit: int = Query(50, ge=1, le=200),
    user: Principal = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[JobOut]:
    query = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if not user.is_admin:
        query = query.where(Job.created_by == user.user_id)
    return [JobOut.of(j) for j in (await session.execute(query)).scalars()]
