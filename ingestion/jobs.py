"""Background job state in job_queue: the one place a job's status, progress and result are kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Job
from tutor.errors import NotFoundError
from tutor.identity import Principal, utcnow

JobStatus = Literal["pending", "processing", "stalled", "completed", "failed"]
PDF_PROCESSING = "pdf_processing"
# The first key of the advisory locks that make one run of a job at a time (the second is the job's row id).
RUN_LOCK_NAMESPACE = 0x7475_7472  # "tutr"
_TRY_RUN_LOCK = text("SELECT pg_try_advisory_lock(:ns, id) FROM job_queue WHERE job_id = :job_id")
_RUN_UNLOCK = text("SELECT pg_advisory_unlock(:ns, id) FROM job_queue WHERE job_id = :job_id")


@asynccontextmanager
async def exclusive_run(sessions: async_sessionmaker[AsyncSession], job_id: str) -> AsyncIterator[bool]:
    """True if this is the job's only run now: a PostgreSQL advisory lock held for the whole run on a connection
    of its own (autocommit: no transaction stays open). A second delivery while the first runs gets False and
    leaves the job to it; a worker that dies loses its connection and the lock with it, so the broker's
    redelivery of its message takes over."""
    async with sessions() as session:
        conn = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        params = {"ns": RUN_LOCK_NAMESPACE, "job_id": job_id}
        locked = bool(await conn.scalar(_TRY_RUN_LOCK, params))
        try:
            yield locked
        finally:
            if locked:
                try:
                    await conn.execute(_RUN_UNLOCK, params)
                except BaseException:
                    await conn.invalidate()  # never back to the pool still holding the lock
                    raise


async def get_job(session: AsyncSession, job_id: str, *, for_update: bool = False) -> Job | None:
    """`for_update` serialises two runs of one job (a redelivery while the first still runs)."""
    query = select(Job).where(Job.job_id == job_id)
    return (await session.execute(query.with_for_update() if for_update else query)).scalar_one_or_none()


async def visible_job(session: AsyncSession, user: Principal, job_id: str) -> Job:
    """The job if this user started it (an admin: any job); 404 otherwise, so job ids cannot be probed."""
    job = await get_job(session, job_id)
    if job is None or not (user.is_admin or job.created_by == user.user_id):
        raise NotFoundError("job_not_found", "no such job")
    return job


async def report(sessions: async_sessionmaker[AsyncSession], job_id: str, progress: int, message: str) -> None:
    """Progress in its own short transaction, so pollers see it while the job's work is uncommitted."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.job_id == job_id, Job.status == "processing")
            .values(progress=max(0, min(progress, 99)), message=message)
        )


async def start(
    sessions: async_sessionmaker[AsyncSession], job_id: str, task_id: str | None, worker: str | None = None
) -> Job | None:
    """Claim the job for this run (its only one: see `exclusive_run`), named for `worker` from its start (a job
    done within one heartbeat still says who did it). None when there is nothing to do: it finished or failed
    already."""
    async with sessions() as session, session.begin():
        job = await get_job(session, job_id, for_update=True)
        if job is None or job.status in ("completed", "failed"):
            return None
        retry = job.status in ("processing", "stalled")  # a worker died mid-job: redelivered or sent again
        job.status = "processing"
        job.progress = 1
        job.message = "Retrying after an interrupted run" if retry else "Started"
        job.started_at = job.started_at or utcnow()
        job.task_id = task_id or job.task_id
        job.error = None
        job.attempts = (job.attempts or 0) + 1
        job.heartbeat_at = func.now()  # type: ignore[assignment]
        job.worker = worker or job.worker
        return job


def complete(job: Job, result: dict[str, Any], message: str) -> None:
    job.status, job.progress, job.message, job.result = "completed", 100, message, result
    job.completed_at = utcnow()


async def fail(sessions: async_sessionmaker[AsyncSession], job_id: str, error: str, result: dict[str, Any]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.job_id == job_id)
            .values(status="failed", error=error, message=f"Failed: {error}", result=result, completed_at=utcnow())
        )


def job_course_id(job: Job) -> int | None:
    """The course a job built or extended; None once a failed job's new course was removed with the failure."""
    if job.status == "failed" and (job.payload or {}).get("created_course"):
        return None
    course_id = (job.result or {}).get("course_id", (job.payload or {}).get("course_id"))
    return int(course_id) if course_id is not None else None


async def list_jobs(session: AsyncSession, user: Principal, *, limit: int = 50) -> list[Job]:
    """The user's jobs (every job for an admin), newest first."""
    query = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if not user.is_admin:
        query = query.where(Job.created_by == user.user_id)
    return list((await session.execute(query)).scalars())
