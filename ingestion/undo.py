"""Undoing a job that failed: no half-built course is left, whether the job failed in its run or lost its worker."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Course, SourceFile
from ingestion import jobs
from ingestion.storage import FileStorage
from tutor.vectorstore import VectorStore

log = logging.getLogger(__name__)


async def undo_job(
    sessions: async_sessionmaker[AsyncSession],
    storage: FileStorage,
    store: VectorStore,
    course_id: int,
    file_ids: list[str],
    *,
    created_course: bool,
) -> None:
    """Drop the job's chunks, its stored files, and the course it created (or only its files' rows)."""
    try:
        await asyncio.to_thread(store.delete_where, course_id, {"file_id": {"$in": file_ids}})
    except Exception:
        log.warning("could not remove chunks of failed job in course %s", course_id, exc_info=True)
    async with sessions() as session, session.begin():
        files = (await session.execute(select(SourceFile).where(SourceFile.file_id.in_(file_ids)))).scalars().all()
        for f in files:
            await asyncio.to_thread(storage.delete, f.file_path or "")
        if created_course:
            await session.execute(delete(Course).where(Course.course_id == course_id))
        else:
            await session.execute(delete(SourceFile).where(SourceFile.file_id.in_(file_ids)))


async def undo_lost_job(
    sessions: async_sessionmaker[AsyncSession], storage: FileStorage, store: VectorStore, job_id: str
) -> bool:
    """Undo a job failed because its worker kept dying (`worker_lost`). False when a run of it is still alive
    (it holds the job's run lock): that run finds the job failed when it is done and undoes it itself."""
    async with jobs.exclusive_run(sessions, job_id) as alone:
        if not alone:
            return False
        async with sessions() as session:
            job = await jobs.get_job(session, job_id)
        if job is None or job.status != "failed":
            return True
        payload: dict[str, Any] = job.payload or {}
        await undo_job(
            sessions,
            storage,
            store,
            int(payload["course_id"]),
            list(payload["file_ids"]),
            created_course=bool(payload.get("created_course")),
        )
        return True
