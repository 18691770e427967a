"""A course's chunks in PostgreSQL (the source of truth): written with the course's rows, read back to build
its dense index (`tutor reindex`) and its lexical one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CourseChunk, Job
from tutor.vectorstore import ChunkMetadata, ChunkRecord

# Rows per INSERT: a large book has thousands of chunks; asyncpg's 32767-parameter limit allows ~2400 rows.
INSERT_BATCH = 1000


@dataclass(frozen=True)
class ChunkVersion:
    """What a course's chunks are now: rows only ever appear (higher ids) or disappear (a lower count)."""

    count: int
    last_id: int


@dataclass(frozen=True)
class StoredChunk:
    id: int
    record: ChunkRecord


async def add_chunks(session: AsyncSession, records: Sequence[ChunkRecord], indexes: Sequence[int]) -> None:
    """Store a job's chunks in the caller's transaction; `indexes`: each chunk's order within its topic."""
    rows = [
        {
            "chunk_id": r.chunk_id,
            "course_id": r.metadata.course_id,
            "file_id": r.metadata.file_id,
            "module_id": r.metadata.module_id,
            "topic_id": r.metadata.topic_id,
            "week": r.metadata.week,
            "topic_title": r.metadata.topic_title[:500],
            "filename": r.metadata.filename[:500],
            "page_start": r.metadata.page_start,
            "page_end": r.metadata.page_end,
            "chunk_index": index,
            "text": r.text,
            "ocr": r.metadata.ocr,
            "ocr_confidence": r.metadata.ocr_confidence,
        }
        for r, index in zip(records, indexes, strict=True)
    ]
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        # A rerun job stores its chunks again under the same ids (as it upserts them in Chroma): the new rows
        # replace the old, under new ids, so readers' caches see the change.
        await session.execute(delete(CourseChunk).where(CourseChunk.chunk_id.in_([r["chunk_id"] for r in batch])))
        await session.execute(insert(CourseChunk), batch)


def _record(row: CourseChunk) -> ChunkRecord:
    return ChunkRecord(
        chunk_id=row.chunk_id,
        text=row.text,
        metadata=ChunkMetadata(
            course_id=row.course_id,
            module_id=row.module_id,
            topic_id=row.topic_id,
            week=row.week,
            topic_title=row.topic_title,
            file_id=row.file_id,
            filename=row.filename,
            page_start=row.page_start,
            page_end=row.page_end,
            ocr=row.ocr,
            ocr_confidence=row.ocr_confidence,
        ),
    )


async def course_chunks(session: AsyncSession, course_id: int) -> list[StoredChunk]:
    """The course's chunks in book order (week, topic, position in the topic)."""
    rows = await session.scalars(
        select(CourseChunk)
        .where(CourseChunk.course_id == course_id)
        .order_by(
            CourseChunk.week.nulls_last(), CourseChunk.topic_id.nulls_last(), CourseChunk.chunk_index, CourseChunk.id
        )
    )
    return [StoredChunk(row.id, _record(row)) for row in rows]


async def version(session: AsyncSession, course_id: int) -> ChunkVersion:
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.max(CourseChunk.id), 0)).where(CourseChunk.course_id == course_id)
        )
    ).one()
    return ChunkVersion(int(row[0]), int(row[1]))


async def ingesting(session: AsyncSession, course_id: int) -> bool:
    """Whether a job is adding to the course now (its chunks reach Chroma before their rows commit)."""
    busy = await session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.status.in_(("pending", "processing")), Job.payload["course_id"].as_integer() == course_id)
    )
    return bool(busy)


async def courses_with_chunks(session: AsyncSession) -> list[int]:
    return [
        int(c) for c in await session.scalars(select(CourseChunk.course_id).distinct().order_by(CourseChunk.course_id))
    ]


@dataclass(frozen=True)
class ChunkLexemes:
    chunk: StoredChunk
    lexemes: list[str]
    counts: list[int]  # occurrences of each lexeme in the chunk


# One statement, so the rows and their lexemes are one snapshot. PostgreSQL's parser and 'english' stemmer
# tokenize once, at insert (the generated search_vector); the lexical ranking reads them from there.
_LEXEMES = text(
    """
    SELECT c.id, c.chunk_id, c.course_id, c.module_id, c.topic_id, c.week, c.topic_title, c.file_id, c.filename,
           c.page_start, c.page_end, c.ocr, c.ocr_confidence, c.text, l.lexemes, l.counts
      FROM course_chunks c
      CROSS JOIN LATERAL (
           SELECT coalesce(array_agg(u.lexeme), '{}') AS lexemes,
                  coalesce(array_agg(coalesce(cardinality(u.positions), 1)), '{}') AS counts
             FROM unnest(c.search_vector) AS u) AS l
     WHERE c.course_id = :course_id
     ORDER BY c.id
    """
)


async def chunk_lexemes(session: AsyncSession, course_id: int) -> list[ChunkLexemes]:
    """Each chunk of the course with the lexemes of its text."""
    out = []
    for row in (await session.execute(_LEXEMES, {"course_id": course_id})).mappings():
        metadata = ChunkMetadata(
            course_id=row["course_id"],
            module_id=row["module_id"],
            topic_id=row["topic_id"],
            week=row["week"],
            topic_title=row["topic_title"],
            file_id=row["file_id"],
            filename=row["filename"],
            page_start=row["page_start"],
            page_end=row["page_end"],
            ocr=row["ocr"],
            ocr_confidence=row["ocr_confidence"],
        )
        chunk = StoredChunk(int(row["id"]), ChunkRecord(row["chunk_id"], row["text"], metadata))
        out.append(ChunkLexemes(chunk, list(row["lexemes"]), [int(n) for n in row["counts"]]))
    return out


_QUERY = text(
    """
    SELECT tsvector_to_array(to_tsvector('english'::regconfig, :query)),
           (SELECT count(*) FROM course_chunks WHERE course_id = :course_id),
           (SELECT coalesce(max(id), 0) FROM course_chunks WHERE course_id = :course_id)
    """
)


async def query_lexemes(session: AsyncSession, course_id: int, query: str) -> tuple[list[str], ChunkVersion]:
    """A question's lexemes (the chunks' own tokenizer) and the course's chunk version, in one round trip."""
    row = (await session.execute(_QUERY, {"query": query, "course_id": course_id})).one()
    return list(row[0]), ChunkVersion(int(row[1]), int(row[2]))
