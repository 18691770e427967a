"""Rebuild a course's dense index (its Chroma collection) from its chunks in PostgreSQL, without the PDFs.

For another embedding model, or an index lost or corrupted. The new collection is built beside the old one
and takes its name when complete, so students keep the old index (or none, if it was lost) until then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tutor import chunks
from tutor.embeddings import Embedder
from tutor.errors import ConflictError, NotFoundError
from tutor.vectorstore import ChunkRecord, VectorStore

BATCH = 64  # as ingestion embeds: the embedder sorts a batch by length and pads little
Progress = Callable[[int, int], None]  # (chunks done, chunks in all)


@dataclass(frozen=True)
class Reindexed:
    course_id: int
    chunks: int
    seconds: float

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0


async def reindex_course(
    sessions: async_sessionmaker[AsyncSession],
    store: VectorStore,
    embedder: Embedder,
    course_id: int,
    progress: Progress | None = None,
) -> Reindexed:
    """Embed the course's stored chunks in book order and make them its collection."""
    started = time.perf_counter()
    async with sessions() as session:
        if await chunks.ingesting(session, course_id):
            raise ConflictError("course_busy", f"course {course_id} is being ingested; reindex it when the job ends")
        stored = await chunks.course_chunks(session, course_id)
    if not stored:
        raise NotFoundError("no_chunks", f"course {course_id} has no stored chunks to index; upload its PDFs")
    records = [s.record for s in stored]
    await asyncio.to_thread(_rebuild, store, embedder, course_id, records, progress)
    return Reindexed(course_id, len(records), time.perf_counter() - started)


def _rebuild(
    store: VectorStore, embedder: Embedder, course_id: int, records: list[ChunkRecord], progress: Progress | None
) -> None:
    def batches() -> Iterator[tuple[list[ChunkRecord], list[list[float]]]]:
        for start in range(0, len(records), BATCH):
            batch = records[start : start + BATCH]
            yield batch, embedder.embed_documents([r.text for r in batch])
            if progress is not None:
                progress(start + len(batch), len(records))

    store.replace_course(course_id, batches(), embedding_model=embedder.name, dimension=embedder.dimension)


async def reindex_all(
    sessions: async_sessionmaker[AsyncSession],
    store: VectorStore,
    embedder: Embedder,
    progress: Callable[[int], Progress] | None = None,
) -> list[Reindexed]:
    """Every course with stored chunks; `progress(course_id)` gives that course's progress callback."""
    async with sessions() as session:
        course_ids = await chunks.courses_with_chunks(session)
    return [await reindex_course(sessions, store, embedder, c, progress(c) if progress else None) for c in course_ids]
