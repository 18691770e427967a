"""One ingestion job from stored PDFs to a ready course: parse, structure, quizzes, chunks, embed, store.

All rows are written (by ingestion.course_writer) in one transaction that also completes the job, so a job
either produces the whole course or nothing; chunks go to Chroma under stable ids, so a retried job overwrites
instead of adding. Module and topic ids are drawn from their sequences before embedding, so each chunk's metadata is final when
its vectors are: every embedded batch is stored while the next one is embedded (the store is then hidden
behind the embedding, the one stage that takes time).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Course, SourceFile
from ingestion import jobs
from ingestion.chunking import chunk_topic
from ingestion.course_writer import (
    CoursePlan,
    PlannedChunk,
    chunk_records,
    last_week,
    reserve_ids,
    topic_key,
    write_course,
)
from ingestion.errors import IngestionError
from ingestion.liveness import default_worker_name, heartbeat
from ingestion.ocr_sandbox import OcrLimits, parse_with_ocr, scanned_notes
from ingestion.pdf import ParsedDocument
from ingestion.quizgen import QuestionDraft, course_quizzes, quiz_size
from ingestion.quizgen_llm import generate_with_llm
from ingestion.sandbox import ParseLimits
from ingestion.storage import FileStorage
from ingestion.structure import ModuleDraft, build_structure
from ingestion.undo import undo_job
from ingestion.weeks_llm import write_week
from tutor.embeddings import Embedder
from tutor.llm.base import LLM
from tutor.settings import Settings
from tutor.vectorstore import ChunkRecord, VectorStore

log = logging.getLogger(__name__)
T = TypeVar("T")

# Each batch is stored while the next is embedded; smaller ones leave less storing after the last (the chunks come
# sorted by length, so a batch of any size pads little).
EMBED_BATCH = 64


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


@dataclass
class Ingestor:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    storage: FileStorage
    store: VectorStore
    embedder: Embedder
    # A generative model names the weeks and writes the quizzes; without one (or when it fails) they are offline.
    llm: LLM | None = None
    timings: Timings = field(default_factory=Timings)
    resumed_chunks: int = 0  # stored by an earlier run of the job that died, so not embedded again
    worker: str = field(default_factory=default_worker_name)  # named on the job row by its heartbeats

    async def run(self, job_id: str, task_id: str | None = None) -> None:
        async with jobs.exclusive_run(self.sessions, job_id) as alone:
            if not alone:  # a redelivery while the job runs: two runs would store chunks under different ids
                log.info("job %s is running in another worker; this delivery leaves it to that run", job_id)
                return
            # Every run beats, in a worker or not: a run without heartbeats would be taken for stalled and sent again.
            async with heartbeat(self.sessions, job_id, self.worker, self.settings.job_heartbeat_s):
                await self._run(job_id, task_id)

    async def _run(self, job_id: str, task_id: str | None) -> None:
        job = await jobs.start(self.sessions, job_id, task_id, self.worker)
        if job is None:
            log.info("job %s has nothing left to do", job_id)
            return
        payload: dict[str, Any] = job.payload or {}
        course_id = int(payload["course_id"])
        file_ids: list[str] = list(payload["file_ids"])
        try:
            plan = await self._plan(job_id, course_id, file_ids)
            if await self._write(job_id, course_id, plan) == "failed":
                # Taken for lost while this run was alive (its beats were late) and failed (`worker_lost`): the
                # API could not undo it while this run held the job, so this run does.
                await self._undo(course_id, file_ids, created_course=bool(payload.get("created_course")))
        except Exception as exc:
            error = exc.message if isinstance(exc, IngestionError) else f"unexpected error: {exc}"
            if not isinstance(exc, IngestionError):
                log.exception("job %s failed", job_id)
            await self._undo(course_id, file_ids, created_course=bool(payload.get("created_course")))
            await jobs.fail(
                self.sessions,
                job_id,
                error,
                {
                    "course_id": None if payload.get("created_course") else course_id,
                    "error_code": exc.code if isinstance(exc, IngestionError) else "internal_error",
                },
            )

    async def _load_files(self, file_ids: list[str]) -> list[SourceFile]:
        async with self.sessions() as session:
            rows = (await session.execute(select(SourceFile).where(SourceFile.file_id.in_(file_ids)))).scalars().all()
        by_id = {f.file_id: f for f in rows}
        missing = [fid for fid in file_ids if fid not in by_id]
        if missing:
            raise IngestionError("files_missing", f"source files are gone: {', '.join(missing)}")
        return [by_id[fid] for fid in file_ids]

    async def _plan(self, job_id: str, course_id: int, file_ids: list[str]) -> CoursePlan:
        files = await self._load_files(file_ids)
        docs: list[ParsedDocument] = []
        files_by_name: dict[str, SourceFile] = {}
        notes: list[str] = []
        for i, f in enumerate(files, 1):
            await jobs.report(
                self.sessions, job_id, 2 + int(20 * (i - 1) / len(files)), f"Reading {f.filename} ({i}/{len(files)})"
            )
            with self.timings.stage("parse"):
                data = await asyncio.to_thread(self.storage.get, f.file_path or "")
                # Two uploads may share a name; citations must still tell them apart.
                name = f.filename if f.filename not in files_by_name else f"{f.filename} ({i})"
                doc = await asyncio.to_thread(
                    parse_with_ocr,
                    data,
                    name,
                    ParseLimits.from_settings(self.settings),
                    OcrLimits.from_settings(self.settings),
                    on_ocr=self._reporter(job_id, 2 + int(20 * (i - 1) / len(files)), f"of {f.filename}"),
                )
            files_by_name[name] = f
            docs.append(doc)
            notes += scanned_notes(doc)
        note = (" Note: " + "; ".join(notes)) if notes else ""
        await jobs.report(
            self.sessions, job_id, 25, f"Structuring {sum(d.page_count for d in docs)} pages into weeks.{note}"
        )
        with self.timings.stage("structure"):
            structure = await asyncio.to_thread(build_structure, docs, max_weeks=self.settings.max_weeks)
        modules = structure.modules
        if not modules:
            raise IngestionError("no_content", "no usable text was found in the uploaded PDFs")

        week_sources: dict[str, int] = {}  # who wrote each week's title and objectives, and each quiz
        quiz_sources: dict[str, int] = {}
        if self.llm is not None:
            await jobs.report(self.sessions, job_id, 27, f"Naming and summarising {len(modules)} week(s).{note}")
            with self.timings.stage("weeks"):
                modules = [await self._llm_week(m, week_sources) for m in modules]
        await jobs.report(self.sessions, job_id, 30, f"Writing quizzes for {len(modules)} week(s).{note}")
        with self.timings.stage("quizzes"):
            quizzes = await asyncio.to_thread(course_quizzes, modules)
            if self.llm is not None:
                quizzes = [
                    await self._llm_quiz(m, offline, quiz_sources) for m, offline in zip(modules, quizzes, strict=True)
                ]

        with self.timings.stage("chunk"):
            chunks = await asyncio.to_thread(self._chunks, course_id, modules, files_by_name)
        async with self.sessions() as session:
            ids = await reserve_ids(session, course_id, modules)
        await self._embed_and_store(job_id, course_id, chunk_records(course_id, chunks, ids), note)
        await jobs.report(self.sessions, job_id, 92, f"Saving the course.{note}")
        return CoursePlan(
            docs, modules, quizzes, chunks, ids, files_by_name, quiz_sources, week_sources, [*notes, *structure.notes]
        )

    def _reporter(self, job_id: str, progress: int, what: str) -> Callable[[int], None]:
        """A callback for the parsing thread: says on the job that `count` scanned pages are being recognised."""
        loop = asyncio.get_running_loop()

        def report(count: int) -> None:
            message = f"Recognising the text of {count} scanned page(s) {what} (OCR, a few seconds a page)"
            try:
                asyncio.run_coroutine_threadsafe(jobs.report(self.sessions, job_id, progress, message), loop).result(30)
            except Exception:  # progress is for show: a report that fails must not fail the reading
                log.warning("job %s: could not report OCR progress", job_id, exc_info=True)

        return report

    async def _resume(self, course_id: int, records: list[ChunkRecord]) -> list[ChunkRecord]:
        """The records still to embed: a run after one that died keeps the chunks it stored (ids are stable),
        with this run's metadata (module and topic ids are drawn anew)."""
        stored = await asyncio.to_thread(self.store.stored_ids, course_id, [r.chunk_id for r in records])
        if not stored:
            return records
        log.info("course %s: %d of %d chunks stored by an earlier run are kept", course_id, len(stored), len(records))
        self.resumed_chunks = len(stored)
        await asyncio.to_thread(self.store.update_metadata, course_id, [r for r in records if r.chunk_id in stored])
        return [r for r in records if r.chunk_id not in stored]

    async def _embed_and_store(self, job_id: str, course_id: int, records: list[ChunkRecord], note: str) -> None:
        # Longest first: each batch then holds chunks of about one length, which the model pads least (all of a
        # course's chunks sorted, not each batch's: 7% less embedding time on a textbook). Ids make order moot.
        records = sorted(await self._resume(course_id, records), key=lambda r: -len(r.text))
        storing: asyncio.Task[None] | None = None
        total = len(records)
        try:
            for start in range(0, total, EMBED_BATCH):
                batch = records[start : start + EMBED_BATCH]
                with self.timings.stage("embed"):
                    embedding = asyncio.ensure_future(
                        asyncio.to_thread(self.embedder.embed_documents, [r.text for r in batch])
                    )
                    # Reported while the batch embeds: the event loop is otherwise idle then.
                    await jobs.report(
                        self.sessions,
                        job_id,
                        35 + int(55 * start / max(total, 1)),
                        f"Embedding chunks {start + 1}-{min(start + EMBED_BATCH, total)} of {total}.{note}",
                    )
                    vectors = await embedding
                if storing is not None:
                    await storing  # one batch in flight: Chroma sees the batches in order, memory stays flat
                storing = asyncio.create_task(asyncio.to_thread(self._store, course_id, batch, vectors))
            if storing is not None:
                with self.timings.stage("store_wait"):
                    await storing
        finally:
            if storing is not None and not storing.done():
                await asyncio.gather(storing, return_exceptions=True)  # a failed job must not race its clean-up

    def _store(self, course_id: int, records: list[ChunkRecord], vectors: list[list[float]]) -> None:
        # Runs beside the embedding: "store" is its own busy time, "store_wait" what the job waited for it.
        with self.timings.stage("store"):
            self.store.upsert(
                course_id, records, vectors, embedding_model=self.embedder.name, dimension=self.embedder.dimension
            )

    async def _llm_week(self, module: ModuleDraft, sources: dict[str, int]) -> ModuleDraft:
        assert self.llm is not None
        return await self._or_offline(sources, f"week {module.week}'s title", write_week(self.llm, module)) or module

    async def _llm_quiz(
        self, module: ModuleDraft, offline: list[QuestionDraft], sources: dict[str, int]
    ) -> list[QuestionDraft]:
        assert self.llm is not None
        written = generate_with_llm(self.llm, module, num_questions=quiz_size(module))
        return await self._or_offline(sources, f"week {module.week}'s quiz", written) or offline

    async def _or_offline(self, sources: dict[str, int], what: str, writing: Awaitable[T | None]) -> T | None:
        """What the model wrote, or None for the offline version; `sources` counts which it was."""
        try:
            written = await writing
        except Exception:  # a model's failure or odd output falls back to the offline version, never fails the job
            log.warning("the LLM failed on %s; using the offline one", what, exc_info=True)
            written = None
        source = "llm" if written else "offline"
        sources[source] = sources.get(source, 0) + 1
        return written

    def _chunks(self, course_id: int, modules: list[ModuleDraft], files: dict[str, SourceFile]) -> list[PlannedChunk]:
        planned = []
        for m in modules:
            for t in m.topics:
                file = files[t.source_file]
                key = topic_key(m.week, t.order_index)
                planned += [PlannedChunk(c, m, t, file, key) for c in chunk_topic(t)]
        return planned

    async def _write(self, job_id: str, course_id: int, plan: CoursePlan) -> str | None:
        """The job's status after this run: "completed" when this run wrote the course."""
        async with self.sessions() as session, session.begin():
            job = await jobs.get_job(session, job_id, for_update=True)
            if job is None or job.status != "processing":
                return None if job is None else job.status  # another run finished it first: exactly once
            # The course row lock orders jobs adding to one course; weeks follow whatever landed first.
            await session.execute(select(Course.id).where(Course.course_id == course_id).with_for_update())
            week_offset = await last_week(session, course_id)
            if week_offset != plan.ids.week_offset:
                log.info("job %s: another job added weeks to course %s meanwhile; renumbering", job_id, course_id)
                ids = replace(plan.ids, week_offset=week_offset)
                records = chunk_records(course_id, plan.chunks, ids)
                await asyncio.to_thread(self.store.update_metadata, course_id, records)
            result = await write_course(session, course_id, plan, week_offset=week_offset, seconds=self.timings.seconds)
            jobs.complete(job, {**result.as_json(), "resumed_chunks": self.resumed_chunks}, result.summary)
            return "completed"

    async def _undo(self, course_id: int, file_ids: list[str], *, created_course: bool) -> None:
        """Leave no half-built course: drop this job's chunks, and its course or its files."""
        await undo_job(self.sessions, self.storage, self.store, course_id, file_ids, created_course=created_course)
