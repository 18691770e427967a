"""Shared set-up for benchmarks: a database (TUTOR_DATABASE_URL or embedded), settings, a course from SciQ."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCIQ = REPO.parent / "shared" / "data" / "sciq_valid" / "sciq_valid.jsonl"
sys.path.insert(0, str(REPO))

from tutor.settings import Settings  # noqa: E402


def sciq(with_support: bool = True) -> list[dict[str, str]]:
    items = [json.loads(line) for line in SCIQ.read_text().splitlines()]
    return [i for i in items if i["support"].strip()] if with_support else items


def sciq_pdf(items: list[dict[str, str]], per_section: int = 3, sections_per_chapter: int = 5) -> bytes:
    """A course PDF of SciQ support paragraphs: chapters of sections, each paragraph once."""
    from fpdf import FPDF

    seen: list[str] = list(dict.fromkeys(i["support"] for i in items))
    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=20)
    latin = lambda t: t.encode("latin-1", "replace").decode("latin-1")  # noqa: E731
    per_chapter = per_section * sections_per_chapter
    for c in range(0, len(seen), per_chapter):
        pdf.add_page()
        pdf.start_section(f"Chapter {c // per_chapter + 1}", level=0)
        pdf.set_font("Helvetica", "B", 20)
        pdf.multi_cell(0, 10, f"Chapter {c // per_chapter + 1}", new_x="LMARGIN", new_y="NEXT")
        for s in range(c, min(c + per_chapter, len(seen)), per_section):
            title = latin(" ".join(seen[s].split()[:5]))
            pdf.start_section(title, level=1)
            pdf.set_font("Helvetica", "B", 14)
            pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 11)
            for paragraph in seen[s : s + per_section]:
                pdf.multi_cell(0, 6, latin(paragraph), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(3)
    return bytes(pdf.output())


@asynccontextmanager
async def bench_settings(**overrides: Any) -> AsyncIterator[Settings]:
    from db import migrate
    from db.embedded import EmbeddedPostgres
    from db.engine import create_database, with_database

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    server = None
    url = os.environ.get("TUTOR_DATABASE_URL")
    if not url:
        server = EmbeddedPostgres(work / "pg")
        await asyncio.to_thread(server.start)
        await create_database(server.url(), "bench")
        url = with_database(server.url(), "bench")
    await asyncio.to_thread(migrate.upgrade, url)
    redis = None
    redis_url = os.environ.get("TUTOR_REDIS_URL")
    if not redis_url:
        from ingestion.embedded_redis import EmbeddedRedis

        redis = EmbeddedRedis(work / "redis")
        redis.start()
        redis_url = redis.url
    settings = Settings(
        database_url=url,
        redis_url=redis_url,
        data_dir=work,
        chroma_path=work / "chroma",
        llm_provider="extractive",
        max_pages=5000,
        rate_limit_chat_per_minute=10**6,
        **overrides,
    )
    try:
        yield settings
    finally:
        if redis:
            redis.stop()
        if server:
            await asyncio.to_thread(server.stop)


@dataclass
class IngestRun:
    course_id: int
    seconds: float  # the job alone, model already loaded
    result: dict[str, Any]
    stage_seconds: dict[str, float]


async def ingest(
    settings: Settings, pdf: bytes, name: str = "sciq.pdf", more: list[tuple[str, bytes]] | None = None
) -> IngestRun:
    """The real pipeline in process (no broker), timed from the job's start with the embedding model warm.

    `more`: further files (name, bytes) of the same course, in the same upload.
    """
    from db.engine import create_engine, session_factory
    from ingestion.jobs import get_job
    from ingestion.pipeline import Ingestor
    from ingestion.storage import open_storage
    from ingestion.uploads import UploadedFile, accept_upload
    from ingestion.warmup import warm_up
    from tutor.embeddings import get_embedder
    from tutor.identity import Principal, sign_in
    from tutor.vectorstore import open_vector_store

    engine = create_engine(settings.database_url or "")
    sessions = session_factory(engine)
    embedder = get_embedder(settings, batches=True)  # as the worker's
    warm_up(embedder)  # what a worker does once when it starts, not per job
    teacher = Principal("bench-teacher", "teacher")
    try:
        async with sessions() as session, session.begin():
            await sign_in(session, teacher)
            receipt = await accept_upload(
                session,
                open_storage(settings),
                settings,
                uploader=teacher,
                files=[UploadedFile(name, pdf), *(UploadedFile(n, b) for n, b in more or [])],
                title="Bench",
                description=None,
                course_id=None,
            )
        ingestor = Ingestor(settings, sessions, open_storage(settings), open_vector_store(settings), embedder)
        started = time.perf_counter()
        await ingestor.run(receipt.job_id)
        seconds = time.perf_counter() - started
        async with sessions() as session:
            job = await get_job(session, receipt.job_id)
        assert job is not None and job.status == "completed", job and job.error
        return IngestRun(receipt.course_id, seconds, dict(job.result or {}), dict(ingestor.timings.seconds))
    finally:
        await engine.dispose()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


async def engine_retrieval(settings: Settings, course_id: int) -> tuple[Any, Any, Any]:
    """The retriever and the quoting provider wired as the chat engine wires them: the course's sentence vectors
    precomputed (as the worker does after a job), shared by the rerank and the quote, the question embedded once.
    Before quoting, fetch the passages' stored vectors as the engine does (`await cache.fetch(course_id, texts)`):
    int8 vectors differ slightly with the batch they were computed in, so lazily embedded ones can change a quote."""
    from db.engine import create_engine, session_factory
    from tutor.answers.sentence_store import SentenceCache, SharedQueries, precompute_course
    from tutor.embeddings import get_embedder
    from tutor.llm.extractive import ExtractiveLLM
    from tutor.retrieval import Retriever
    from tutor.vectorstore import open_vector_store

    embedder = get_embedder(settings)
    sessions = session_factory(create_engine(settings.database_url or ""))
    await precompute_course(sessions, embedder, course_id)
    llm = ExtractiveLLM(embedder)
    vectors = llm.tutor.vectors
    assert vectors is not None
    cache = SentenceCache(sessions, vectors, embedder.name)
    retriever = Retriever(open_vector_store(settings), SharedQueries(embedder, vectors), sessions, cache)
    return retriever, llm, cache


async def course_records(settings: Settings, course_id: int) -> list[Any]:
    """The course's chunks as stored in PostgreSQL (`tutor.vectorstore.ChunkRecord`s: text, page span, topic)."""
    from db.engine import create_engine, session_factory
    from tutor import chunks

    engine = create_engine(settings.database_url or "")
    try:
        async with session_factory(engine)() as session:
            return [c.record for c in await chunks.course_chunks(session, course_id)]
    finally:
        await engine.dispose()
