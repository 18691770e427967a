"""Background job state in job_queue: the one place a job's status, progress and result are kept."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Job
from tutor.identity import utcnow

JobStatus = Literal["pending", "processing", "stalled", "completed", "failed"]
PDF_PROCESSING = "pdf_processing"


async def get_job(session: AsyncSession, job_id: str, *, for_update: bool = False) -> Job | None:
    """`for_update` serialises two runs of one job (a redelivery while the first still runs)."""
    query = select(Job).where(Job.job_id == job_id)
    return (await session.execute(query.with_for_update() if for_update else query)).scalar_one_or_none()


async def report(sessions: async_sessionmaker[AsyncSession], job_id: str, progress: int, message: str) -> None:
    """Progress in its own short transaction, so pollers see it while the job's work is uncommitted."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.job_id == job_id, Job.status == "processing")
            .values(progress=max(0, min(progress, 99)), message=message)
        )


async def start(
    sessions: async_sessionmaker[AsyncSession], job_id: str, task_id: str | None, *, stalled_after_s: float = 30.0
) -> Job | None:
    """Claim the job for this run. None when there is nothing to do: it finished or failed already, or another
    worker runs it and is alive (its heartbeat is younger than `stalled_after_s`)."""
    async with sessions() as session, session.begin():
        job = await get_job(session, job_id, for_update=True)
        if job is None or job.status in ("completed", "failed"):
            return None
        if job.status == "processing" and await _alive(session, job, stalled_after_s):
            return None  # a duplicate delivery while its worker still runs it
        retry = job.status in ("processing", "stalled")  # a worker died mid-job: redelivered or sent again
        job.status = "processing"
        job.progress = 1
        job.message = "Retrying after an interrupted run" if retry else "Started"
        job.started_at = job.started_at or utcnow()
        job.task_id = task_id or job.task_id
        job.error = None
        job.attempts = (job.attempts or 0) + 1
        job.heartbeat_at = func.now()  # type: ignore[assignment]
        return job


async def _alive(session: AsyncSession, job: Job, stalled_after_s: float) -> bool:
    fresh = text("SELECT heartbeat_at > now() - make_interval(secs => :s) FROM job_queue WHERE id = :id")
    return bool(await session.scalar(fresh, {"s": stalled_after_s, "id": job.id}))


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
