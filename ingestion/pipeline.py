"""One ingestion job from stored PDFs to a ready course: parse, structure, quizzes, chunks, embed, store.

All rows are written in one transaction that also completes the job, so a job either produces the whole
course or nothing; chunks go to Chroma under stable ids, so a retried job overwrites instead of adding.
Module and topic ids are drawn from their sequences before embedding, so each chunk's metadata is final when
its vectors are: every embedded batch is stored while the next one is embedded (the store is then hidden
behind the embedding, the one stage that takes time).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Course, Module, Quiz, QuizQuestion, SourceFile, Topic
from ingestion import jobs
from ingestion.chunking import ChunkDraft, chunk_id, chunk_topic
from ingestion.errors import IngestionError
from ingestion.pdf import ParsedDocument, parse_pdf
from ingestion.quizgen import QuestionDraft, generate_module_quiz
from ingestion.quizgen_llm import generate_with_llm
from ingestion.storage import FileStorage
from ingestion.structure import ModuleDraft, TopicDraft, build_structure, key_terms
from ingestion.weeks_llm import write_week
from tutor.chunks import add_chunks
from tutor.embeddings import Embedder
from tutor.llm.base import LLM
from tutor.settings import Settings
from tutor.vectorstore import ChunkMetadata, ChunkRecord, VectorStore

log = logging.getLogger(__name__)
T = TypeVar("T")

# Each batch is stored while the next is embedded; smaller ones leave less storing after the last, larger
# ones let the embedder sort by length and pad less (64: no measurable padding cost on real chunks).
EMBED_BATCH = 64
QUESTIONS_PER_QUIZ = 5


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
class PlannedChunk:
    chunk: ChunkDraft
    module: ModuleDraft
    topic: TopicDraft
    file: SourceFile
    topic_key: int


@dataclass(frozen=True)
class ReservedIds:
    """Primary keys drawn from the sequences for this job's rows (a failed job only leaves gaps)."""

    week_offset: int  # the course's last week when the ids were drawn; the new weeks follow it
    modules: dict[int, int]  # draft week -> modules.id
    topics: dict[int, int]  # topic key -> topics.id


@dataclass
class CoursePlan:
    """Everything computed before the course's rows are written; the chunks are already in Chroma."""

    docs: list[ParsedDocument]
    modules: list[ModuleDraft]
    quizzes: list[list[QuestionDraft]]
    chunks: list[PlannedChunk]
    ids: ReservedIds
    files_by_name: dict[str, SourceFile]


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
    quiz_sources: dict[str, int] = field(default_factory=dict)
    week_sources: dict[str, int] = field(default_factory=dict)  # who wrote each week's title and objectives

    async def run(self, job_id: str, task_id: str | None = None) -> None:
        async with jobs.exclusive_run(self.sessions, job_id) as alone:
            if not alone:  # a redelivery while the job runs: two runs would store chunks under different ids
                log.info("job %s is running in another worker; this delivery leaves it to that run", job_id)
                return
            await self._run(job_id, task_id)

    async def _run(self, job_id: str, task_id: str | None) -> None:
        job = await jobs.start(self.sessions, job_id, task_id)
        if job is None:
            log.info("job %s has nothing left to do", job_id)
            return
        payload: dict[str, Any] = job.payload or {}
        course_id = int(payload["course_id"])
        file_ids: list[str] = list(payload["file_ids"])
        try:
            plan = await self._plan(job_id, course_id, file_ids)
            await self._write(job_id, course_id, plan)
        except Exception as exc:
            error = exc.message if isinstance(exc, IngestionError) else f"unexpected error: {exc}"
            if not isinstance(exc, IngestionError):
                log.exception("job %s failed", job_id)
            await self._undo(course_id, file_ids, created_course=bool(payload.get("created_course")))
            await jobs.fail(
                self.sessions, job_id, error, {"course_id": None if payload.get("created_course") else course_id}
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
                doc = await asyncio.to_thread(parse_pdf, data, name, max_pages=self.settings.max_pages)
            files_by_name[name] = f
            docs.append(doc)
            if doc.scanned_pages:
                pages = ", ".join(str(p) for p in doc.scanned_pages[:20])
                notes.append(f"{name}: {len(doc.scanned_pages)} page(s) without text (scanned?) skipped: {pages}")
        note = (" Note: " + "; ".join(notes)) if notes else ""
        await jobs.report(
            self.sessions, job_id, 25, f"Structuring {sum(d.page_count for d in docs)} pages into weeks.{note}"
        )
        with self.timings.stage("structure"):
            modules = await asyncio.to_thread(build_structure, docs)
        if not modules:
            raise IngestionError("no_content", "no usable text was found in the uploaded PDFs")

        if self.llm is not None:
            await jobs.report(self.sessions, job_id, 27, f"Naming and summarising {len(modules)} week(s).{note}")
            with self.timings.stage("weeks"):
                modules = [await self._llm_week(m) for m in modules]
        await jobs.report(self.sessions, job_id, 30, f"Writing quizzes for {len(modules)} week(s).{note}")
        with self.timings.stage("quizzes"):
            quizzes = await asyncio.to_thread(self._quizzes, modules)
            if self.llm is not None:
                quizzes = [await self._llm_quiz(m, offline) for m, offline in zip(modules, quizzes, strict=True)]

        with self.timings.stage("chunk"):
            chunks = await asyncio.to_thread(self._chunks, course_id, modules, files_by_name)
        ids = await self._reserve_ids(course_id, modules)
        await self._embed_and_store(job_id, course_id, self._records(course_id, chunks, ids), note)
        await jobs.report(self.sessions, job_id, 92, f"Saving the course.{note}")
        return CoursePlan(docs, modules, quizzes, chunks, ids, files_by_name)

    async def _reserve_ids(self, course_id: int, modules: list[ModuleDraft]) -> ReservedIds:
        topic_keys = [m.week * 10_000 + t.order_index for m in modules for t in m.topics]
        async with self.sessions() as session:
            week_offset = await _last_week(session, course_id)
            module_ids = await _next_ids(session, Module.__tablename__, len(modules))
            topic_ids = await _next_ids(session, Topic.__tablename__, len(topic_keys))
        return ReservedIds(
            week_offset,
            dict(zip((m.week for m in modules), module_ids, strict=True)),
            dict(zip(topic_keys, topic_ids, strict=True)),
        )

    @staticmethod
    def _records(course_id: int, chunks: list[PlannedChunk], ids: ReservedIds) -> list[ChunkRecord]:
        return [
            ChunkRecord(
                chunk_id=chunk_id(course_id, p.file.checksum or p.file.file_id, p.topic_key, p.chunk.index),
                text=p.chunk.text,
                metadata=ChunkMetadata(
                    course_id=course_id,
                    module_id=ids.modules[p.module.week],
                    topic_id=ids.topics[p.topic_key],
                    week=ids.week_offset + p.module.week,
                    topic_title=p.topic.title,
                    file_id=p.file.file_id,
                    filename=p.file.filename,
                    page_start=p.chunk.page_start,
                    page_end=p.chunk.page_end,
                ),
            )
            for p in chunks
        ]

    async def _embed_and_store(self, job_id: str, course_id: int, records: list[ChunkRecord], note: str) -> None:
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

    async def _llm_week(self, module: ModuleDraft) -> ModuleDraft:
        assert self.llm is not None
        return (
            await self._or_offline(self.week_sources, f"week {module.week}'s title", write_week(self.llm, module))
            or module
        )

    async def _llm_quiz(self, module: ModuleDraft, offline: list[QuestionDraft]) -> list[QuestionDraft]:
        assert self.llm is not None
        written = generate_with_llm(self.llm, module, num_questions=QUESTIONS_PER_QUIZ)
        return await self._or_offline(self.quiz_sources, f"week {module.week}'s quiz", written) or offline

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

    def _quizzes(self, modules: list[ModuleDraft]) -> list[list[QuestionDraft]]:
        text = "\n\n".join(t.content for m in modules for t in m.topics)
        terms = key_terms(text, 60)
        return [generate_module_quiz(m, terms, num_questions=QUESTIONS_PER_QUIZ, seed=m.week) for m in modules]

    def _chunks(self, course_id: int, modules: list[ModuleDraft], files: dict[str, SourceFile]) -> list[PlannedChunk]:
        planned = []
        for m in modules:
            for t in m.topics:
                file = files[t.source_file]
                key = m.week * 10_000 + t.order_index
                planned += [PlannedChunk(c, m, t, file, key) for c in chunk_topic(t)]
        return planned

    async def _write(self, job_id: str, course_id: int, plan: CoursePlan) -> None:
        started = time.perf_counter()
        async with self.sessions() as session, session.begin():
            job = await jobs.get_job(session, job_id, for_update=True)
            if job is None or job.status != "processing":
                return  # another run finished it first: exactly once
            # The course row lock orders jobs adding to one course; weeks follow whatever landed first.
            await session.execute(select(Course.id).where(Course.course_id == course_id).with_for_update())
            week_offset = await _last_week(session, course_id)
            if week_offset != plan.ids.week_offset:
                log.info("job %s: another job added weeks to course %s meanwhile; renumbering", job_id, course_id)
                ids = replace(plan.ids, week_offset=week_offset)
                await asyncio.to_thread(
                    self.store.update_metadata, course_id, self._records(course_id, plan.chunks, ids)
                )
            question_count = 0
            for draft, questions in zip(plan.modules, plan.quizzes, strict=True):
                week = week_offset + draft.week
                module_id = plan.ids.modules[draft.week]
                session.add(
                    Module(
                        id=module_id,
                        course_id=course_id,
                        week=week,
                        title=draft.title[:500],
                        description=draft.description,
                        learning_objectives=draft.learning_objectives,
                        order_index=week,
                    )
                )
                session.add_all(
                    Topic(
                        id=plan.ids.topics[draft.week * 10_000 + t.order_index],
                        module_id=module_id,
                        title=t.title[:500],
                        content=t.content,
                        order_index=t.order_index,
                        estimated_time=t.estimated_time,
                    )
                    for t in draft.topics
                )
                if questions:
                    quiz_id = f"quiz_{course_id}_w{week}_{uuid.uuid4().hex[:8]}"
                    session.add(
                        Quiz(
                            quiz_id=quiz_id,
                            course_id=course_id,
                            module_id=module_id,
                            title=f"Week {week} quiz: {draft.title}"[:500],
                            description=f"{len(questions)} questions on {draft.title}",
                            quiz_type="module",
                            passing_score=70,
                        )
                    )
                    session.add_all(
                        QuizQuestion(
                            quiz_id=quiz_id,
                            question_number=q.question_number,
                            question_text=q.question_text,
                            options=q.options,
                            correct_answer=q.correct_answer,
                            explanation=q.explanation,
                            difficulty=q.difficulty,
                        )
                        for q in questions
                    )
                    question_count += len(questions)
            await session.flush()
            final_ids = replace(plan.ids, week_offset=week_offset)
            await add_chunks(
                session, self._records(course_id, plan.chunks, final_ids), [p.chunk.index for p in plan.chunks]
            )
            await session.execute(
                update(Course).where(Course.course_id == course_id).values(status="active", updated_at=func.now())
            )
            result = {
                "course_id": course_id,
                "modules": len(plan.modules),
                "topics": sum(len(m.topics) for m in plan.modules),
                "quizzes": sum(1 for q in plan.quizzes if q),
                "questions": question_count,
                "chunks": len(plan.chunks),
                "pages": sum(d.page_count for d in plan.docs),
                "scanned_pages": {d.filename: d.scanned_pages for d in plan.docs if d.scanned_pages},
                "file_ids": [f.file_id for f in plan.files_by_name.values()],
                "quiz_sources": self.quiz_sources or {"offline": len(plan.modules)},
                "week_sources": self.week_sources or {"offline": len(plan.modules)},
                "seconds": {
                    **{k: round(v, 3) for k, v in self.timings.seconds.items()},
                    "write": round(time.perf_counter() - started, 3),
                },
            }
            summary = f"Done: {result['modules']} weeks, {result['topics']} topics, {result['questions']} questions, {result['chunks']} chunks"
            jobs.complete(job, result, summary)

    async def _undo(self, course_id: int, file_ids: list[str], *, created_course: bool) -> None:
        """Leave no half-built course: drop this job's chunks, and its course or its files."""
        try:
            await asyncio.to_thread(self.store.delete_where, course_id, {"file_id": {"$in": file_ids}})
        except Exception:
            log.warning("could not remove chunks of failed job in course %s", course_id, exc_info=True)
        async with self.sessions() as session, session.begin():
            files = (await session.execute(select(SourceFile).where(SourceFile.file_id.in_(file_ids)))).scalars().all()
            for f in files:
                await asyncio.to_thread(self.storage.delete, f.file_path or "")
            if created_course:
                await session.execute(delete(Course).where(Course.course_id == course_id))
            else:
                await session.execute(delete(SourceFile).where(SourceFile.file_id.in_(file_ids)))


async def _last_week(session: AsyncSession, course_id: int) -> int:
    return int(
        await session.scalar(select(func.coalesce(func.max(Module.week), 0)).where(Module.course_id == course_id)) or 0
    )


async def _next_ids(session: AsyncSession, table: str, count: int) -> list[int]:
    """`count` values of the table's id sequence (nextval is outside transactions: no one else can draw them)."""
    if not count:
        return []
    sequence = func.pg_get_serial_sequence(table, "id")
    drawn = await session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count)))
    return [int(i) for i in drawn]
