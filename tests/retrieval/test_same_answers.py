"""Same book, same answers: two ingestions of one PDF rank every question's chunks identically, exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.factories import course_pdf, ingest_course, sciq_chapters, sciq_items
from tests.retrieval.conftest import Parts
from tutor.settings import Settings
from tutor.vectorstore import ChunkMetadata, ChunkRecord, open_vector_store

COURSE = 737373


def _ranking(hits: list) -> list[tuple[str, int, int, str]]:  # type: ignore[type-arg]
    # Chunk ids include the course id: compare what a student is shown (text and its place in the book).
    return [(h.text, h.metadata.page_start, h.metadata.page_end, h.metadata.topic_title) for h in hits]


async def test_two_ingestions_of_one_pdf_give_identical_rankings(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, parts: Parts
) -> None:
    pdf = course_pdf(sciq_chapters(4, 4, 2))
    first = await ingest_course(settings, sessions, [("book.pdf", pdf)], title="First")
    second = await ingest_course(settings, sessions, [("book.pdf", pdf)], title="Second")
    assert parts.store.count(first) == parts.store.count(second) > 20
    retriever = parts.retriever(sessions)
    for item in sciq_items()[:32:2]:
        a = await retriever.retrieve(first, item["question"], k=5)
        b = await retriever.retrieve(second, item["question"], k=5)
        assert _ranking(a) == _ranking(b), item["question"]
        assert [round(h.score, 5) for h in a] == [round(h.score, 5) for h in b]


def test_dense_search_is_exact_on_a_course_sized_collection(tmp_path: Path) -> None:
    """Random vectors are HNSW's hardest case: chromadb's default search (ef 100) misses some of the 40 nearest
    of 2000; a course's collection is searched as wide as it is, so every question gets the exact 40."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((2000, 64)).astype(np.float32)
    meta = ChunkMetadata(COURSE, None, None, None, "", "f", "book.pdf", 1, 1)
    records = [ChunkRecord(f"c{COURSE}-{i}", f"chunk {i}", meta) for i in range(len(vectors))]
    stores = [open_vector_store(Settings(chroma_path=tmp_path / f"chroma{n}")) for n in (1, 2)]
    for store in stores:  # two builds of one course's index
        store.upsert(COURSE, records, vectors.tolist(), embedding_model="m", dimension=64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    for query in rng.standard_normal((25, 64)).astype(np.float32):
        exact = [records[i].chunk_id for i in np.argsort(-(unit @ query))[:40]]
        for store in stores:
            assert [h.chunk_id for h in store.query(COURSE, query.tolist(), k=40, embedding_model="m")] == exact
