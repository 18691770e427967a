"""One ingestion job from stored PDFs to a ready course: parse, structure, quizzes, chunks, embed, store.

All rows are written in one transaction that also completes the job, so a job either produces the whole
course or nothing; chunks go to Chroma under stable ids, so a retried job overwrites instead of adding.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

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
from tutor.embeddings import Embedder
from tutor.llm.base import LLM, LLMError
from tutor.settings import Settings
from tutor.vectorstore import ChunkMetadata, ChunkRecord, VectorStore

log = logging.getLogger(__name__)

EMBED_BATCH = 256  # large calls let sentence-transformers sort by length and pad less
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


@dataclass
class CoursePlan:
    """Everything computed before the database is touched."""

    docs: list[ParsedDocument]
    modules: list[ModuleDraft]
    quizzes: list[list[QuestionDraft]]
    chunks: list[PlannedChunk]
    embeddings: list[list[float]]
    files_by_name: dict[str, SourceFile]


@dataclass
class Ingestor:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    storage: FileStorage
    store: VectorStore
    embedder: Embedder
    llm: LLM | None = None  # a generative model writes the quizzes; without one (or when it fails) they are offline
    timings: Timings = field(default_factory=Timings)
    quiz_sources: dict[str, int] = field(default_factory=dict)

    async def run(self, job_id: str, task_id: str | None = None) -> None:
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

        await jobs.report(self.sessions, job_id, 30, f"Writing quizzes for {len(modules)} week(s).{note}")
        with self.timings.stage("quizzes"):
            quizzes = await asyncio.to_thread(self._quizzes, modules)
            if self.llm is not None:
                quizzes = [await self._llm_quiz(m, offline) for m, offline in zip(modules, quizzes, strict=True)]

        with self.timings.stage("chunk"):
            chunks = await asyncio.to_thread(self._chunks, course_id, modules, files_by_name)
        embeddings: list[list[float]] = []
        total = len(chunks)
        for start in range(0, total, EMBED_BATCH):
            await jobs.report(
                self.sessions,
                job_id,
                35 + int(55 * start / max(total, 1)),
                f"Embedding chunks {start + 1}-{min(start + EMBED_BATCH, total)} of {total}.{note}",
            )
            batch = [c.chunk.text for c in chunks[start : start + EMBED_BATCH]]
            with self.timings.stage("embed"):
                embeddings += await asyncio.to_thread(self.embedder.embed_documents, batch)
        await jobs.report(self.sessions, job_id, 92, f"Saving the course.{note}")
        return CoursePlan(docs, modules, quizzes, chunks, embeddings, files_by_name)

    async def _llm_quiz(self, module: ModuleDraft, offline: list[QuestionDraft]) -> list[QuestionDraft]:
        assert self.llm is not None
        try:
            written = await generate_with_llm(self.llm, module, num_questions=QUESTIONS_PER_QUIZ)
        except LLMError:
            log.warning("the LLM failed on week %s's quiz; using the offline generator", module.week, exc_info=True)
            written = None
        source = "llm" if written else "offline"
        self.quiz_sources[source] = self.quiz_sources.get(source, 0) + 1
        return written or offline

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
            week_offset = int(
                await session.scalar(
                    select(func.coalesce(func.max(Module.week), 0)).where(Module.course_id == course_id)
                )
                or 0
            )
            module_ids: dict[int, int] = {}
            topic_ids: dict[int, int] = {}
            question_count = 0
            for draft, questions in zip(plan.modules, plan.quizzes, strict=True):
                week = week_offset + draft.week
                module = Module(
                    course_id=course_id,
                    week=week,
                    title=draft.title[:500],
                    description=draft.description,
                    learning_objectives=draft.learning_objectives,
                    order_index=week,
                )
                session.add(module)
                await session.flush()
                module_ids[draft.week] = module.id
                for t in draft.topics:
                    topic = Topic(
                        module_id=module.id,
                        title=t.title[:500],
                        content=t.content,
                        order_index=t.order_index,
                        estimated_time=t.estimated_time,
                    )
                    session.add(topic)
                    await session.flush()
                    topic_ids[draft.week * 10_000 + t.order_index] = topic.id
                if questions:
                    quiz = Quiz(
                        quiz_id=f"quiz_{course_id}_w{week}_{uuid.uuid4().hex[:8]}",
                        course_id=course_id,
                        module_id=module.id,
                        title=f"Week {week} quiz: {draft.title}"[:500],
                        description=f"{len(questions)} questions on {draft.title}",
                        quiz_type="module",
                        passing_score=70,
                    )
                    session.add(quiz)
                    await session.flush()
                    for q in questions:
                        session.add(
                            QuizQuestion(
                                quiz_id=quiz.quiz_id,
                                question_number=q.question_number,
                                question_text=q.question_text,
                                options=q.options,
                                correct_answer=q.correct_answer,
                                explanation=q.explanation,
                                difficulty=q.difficulty,
                            )
                        )
                    question_count += len(questions)
            await session.flush()

            records = [
                ChunkRecord(
                    chunk_id=chunk_id(course_id, p.file.checksum or p.file.file_id, p.topic_key, p.chunk.index),
                    text=p.chunk.text,
                    metadata=ChunkMetadata(
                        course_id=course_id,
                        module_id=module_ids[p.module.week],
                        topic_id=topic_ids[p.topic_key],
                        week=week_offset + p.module.week,
                        topic_title=p.topic.title,
                        file_id=p.file.file_id,
                        filename=p.file.filename,
                        page_start=p.chunk.page_start,
                        page_end=p.chunk.page_end,
                    ),
                )
                for p in plan.chunks
            ]
            with self.timings.stage("store"):
                if records:
                    await asyncio.to_thread(
                        self.store.upsert,
                        course_id,
                        records,
                        plan.embeddings,
                        embedding_model=self.embedder.name,
                        dimension=self.embedder.dimension,
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
                "chunks": len(records),
                "pages": sum(d.page_count for d in plan.docs),
                "scanned_pages": {d.filename: d.scanned_pages for d in plan.docs if d.scanned_pages},
                "file_ids": [f.file_id for f in plan.files_by_name.values()],
                "quiz_sources": self.quiz_sources or {"offline": len(plan.modules)},
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
