"""The course's rows from a finished plan: modules, topics, quizzes and questions, written in one transaction.

The plan (structure, quizzes, chunks and the ids the chunks already cite in Chroma) is computed first by the
pipeline; here it becomes rows. Module and topic ids were drawn from their sequences before embedding, so the
rows take exactly the ids that every stored chunk cites.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course, Module, Quiz, QuizQuestion, SourceFile, Topic
from ingestion.chunking import ChunkDraft, chunk_id
from ingestion.pdf import ParsedDocument
from ingestion.quizgen import QuestionDraft
from ingestion.structure import ModuleDraft, TopicDraft
from tutor.chunks import add_chunks
from tutor.vectorstore import ChunkMetadata, ChunkRecord


@dataclass
class PlannedChunk:
    chunk: ChunkDraft
    module: ModuleDraft
    topic: TopicDraft
    file: SourceFile
    topic_key: int


def topic_key(week: int, order_index: int) -> int:
    """A topic's key within one job's plan (weeks and topic orders are both small)."""
    return week * 10_000 + order_index


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
    quiz_sources: dict[str, int] = field(default_factory=dict)  # who wrote the quizzes: "llm" / "offline"
    week_sources: dict[str, int] = field(default_factory=dict)  # who wrote each week's title and objectives
    notes: list[str] = field(default_factory=list)  # what the teacher should know about the structure


@dataclass(frozen=True)
class IngestResult:
    """What a finished job reports (stored as the job's result, shown to the teacher)."""

    course_id: int
    modules: int
    topics: int
    quizzes: int
    questions: int
    chunks: int
    pages: int
    scanned_pages: dict[str, list[int]]  # pages left without text (pictures, blank, not recognised)
    file_ids: list[str]
    quiz_sources: dict[str, int]
    week_sources: dict[str, int]
    seconds: dict[str, float]
    notes: list[str] = field(default_factory=list)  # e.g. chapters merged to respect max_weeks, back matter left out
    recognised_pages: dict[str, list[int]] = field(default_factory=dict)  # scanned pages whose text came from OCR

    @property
    def summary(self) -> str:
        done = f"Done: {self.modules} weeks, {self.topics} topics, {self.questions} questions, {self.chunks} chunks"
        return done + "".join(f". Note: {n}" for n in self.notes)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def chunk_records(course_id: int, chunks: list[PlannedChunk], ids: ReservedIds) -> list[ChunkRecord]:
    """The chunks as stored in the index, citing the rows they will have once written."""
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
                ocr=p.chunk.confidence is not None,
                ocr_confidence=p.chunk.confidence,
            ),
        )
        for p in chunks
    ]


async def reserve_ids(session: AsyncSession, course_id: int, modules: list[ModuleDraft]) -> ReservedIds:
    keys = [topic_key(m.week, t.order_index) for m in modules for t in m.topics]
    week_offset = await last_week(session, course_id)
    module_ids = await _next_ids(session, Module.__tablename__, len(modules))
    topic_ids = await _next_ids(session, Topic.__tablename__, len(keys))
    return ReservedIds(
        week_offset,
        dict(zip((m.week for m in modules), module_ids, strict=True)),
        dict(zip(keys, topic_ids, strict=True)),
    )


async def write_course(
    session: AsyncSession,
    course_id: int,
    plan: CoursePlan,
    *,
    week_offset: int,
    seconds: dict[str, float] | None = None,
) -> IngestResult:
    """Add the plan's weeks after `week_offset` and mark the course active, in the caller's transaction."""
    started = time.perf_counter()
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
                id=plan.ids.topics[topic_key(draft.week, t.order_index)],
                module_id=module_id,
                title=t.title[:500],
                content=t.content,
                order_index=t.order_index,
                estimated_time=t.estimated_time,
            )
            for t in draft.topics
        )
        if questions:
            _add_quiz(session, course_id, module_id, week, draft.title, questions)
            question_count += len(questions)
    await session.flush()
    # The chunks' rows (the source of truth the index is rebuilt from) go in the same transaction as the weeks.
    final_ids = replace(plan.ids, week_offset=week_offset)
    await add_chunks(session, chunk_records(course_id, plan.chunks, final_ids), [p.chunk.index for p in plan.chunks])
    await session.execute(
        update(Course).where(Course.course_id == course_id).values(status="active", updated_at=func.now())
    )
    return IngestResult(
        course_id=course_id,
        modules=len(plan.modules),
        topics=sum(len(m.topics) for m in plan.modules),
        quizzes=sum(1 for q in plan.quizzes if q),
        questions=question_count,
        chunks=len(plan.chunks),
        pages=sum(d.page_count for d in plan.docs),
        scanned_pages={d.filename: d.scanned_pages for d in plan.docs if d.scanned_pages},
        file_ids=[f.file_id for f in plan.files_by_name.values()],
        quiz_sources=plan.quiz_sources or {"offline": len(plan.modules)},
        week_sources=plan.week_sources or {"offline": len(plan.modules)},
        seconds={
            **{k: round(v, 3) for k, v in (seconds or {}).items()},
            "write": round(time.perf_counter() - started, 3),
        },
        notes=plan.notes,
        recognised_pages={d.filename: list(d.recognised_pages) for d in plan.docs if d.recognised_pages},
    )


def _add_quiz(
    session: AsyncSession, course_id: int, module_id: int, week: int, title: str, questions: list[QuestionDraft]
) -> None:
    quiz_id = f"quiz_{course_id}_w{week}_{uuid.uuid4().hex[:8]}"
    session.add(
        Quiz(
            quiz_id=quiz_id,
            course_id=course_id,
            module_id=module_id,
            title=f"Week {week} quiz: {title}"[:500],
            description=f"{len(questions)} questions on {title}",
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
            needs_review=q.needs_review,
        )
        for q in questions
    )


async def last_week(session: AsyncSession, course_id: int) -> int:
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
