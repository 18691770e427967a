"""Celery tasks: thin shells that open what the work needs and call the domain function."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from celery import Task, shared_task
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from ingestion.jobs import get_job
from ingestion.liveness import default_worker_name
from ingestion.pipeline import Ingestor
from ingestion.storage import open_storage
from tutor.answers.sentence_store import precompute_course
from tutor.embeddings import Embedder
from tutor.settings import Settings, get_settings

log = logging.getLogger(__name__)

_process: dict[str, Any] = {}


def _shared_resources() -> dict[str, Any]:
    """The embedding model and the vector store client are loaded once per worker process."""
    if not _process:
        from tutor.embeddings import get_embedder
        from tutor.llm.factory import get_llm, provider_name
        from tutor.vectorstore import open_vector_store

        settings = get_settings()
        llm = get_llm(settings) if quiz_llm_wanted(settings, provider_name(settings)) else None
        # Tuned for batches unless several worker processes share the cores (their spinning threads would take
        # the cores from each other).
        embedder = get_embedder(settings, batches=settings.worker_concurrency == 1)
        _process.update(settings=settings, embedder=embedder, store=open_vector_store(settings), llm=llm)
    return _process


def warm_up() -> None:
    from ingestion.sandbox import start_parse_server
    from ingestion.warmup import warm_up as warm

    start_parse_server()  # it imports the PDF parser (seconds) while the embedder loads
    warm(_shared_resources()["embedder"])


def quiz_llm_wanted(settings: Settings, provider: str) -> bool:
    """The packaged 135M model cannot write valid quiz JSON reliably; a real server by default, any LLM if asked."""
    if settings.quiz_generator == "offline" or provider == "extractive":
        return False
    return settings.quiz_generator == "llm" or provider == "openai"


async def precompute_sentences(sessions: async_sessionmaker[AsyncSession], embedder: Embedder, job_id: str) -> None:
    """Once a job's course is ready, its quotable sentences are embedded for the tutor's quoted answers (after the
    job is reported complete, so the course is usable meanwhile; a failure here leaves the tutor embedding them
    when first quoted, as it would anyway)."""
    try:
        async with sessions() as session:
            job = await get_job(session, job_id)
        if job is None or job.status != "completed" or not job.payload:
            return
        await precompute_course(sessions, embedder, int(job.payload["course_id"]))
    except Exception:
        log.warning("sentence vectors of job %s's course not computed", job_id, exc_info=True)


@shared_task(name="tutor.ping")
def ping(payload: str) -> str:
    """Proves the API → broker → worker → result round trip."""
    return f"pong:{payload}"


@shared_task(name="tutor.ingest", bind=True)
def ingest(self: Task, job_id: str) -> None:
    """Build the course of one upload job. Idempotent: a redelivered job redoes only unfinished work."""
    res = _shared_resources()

    async def run() -> None:
        engine = create_engine(res["settings"].database_url, pool_size=2)
        try:
            ingestor = Ingestor(
                settings=res["settings"],
                sessions=session_factory(engine),
                storage=open_storage(res["settings"]),
                store=res["store"],
                embedder=res["embedder"],
                llm=res["llm"],
                worker=self.request.hostname or default_worker_name(),
            )
            await ingestor.run(job_id, self.request.id)
            await precompute_sentences(session_factory(engine), res["embedder"], job_id)
        finally:
            await engine.dispose()

    asyncio.run(run())
