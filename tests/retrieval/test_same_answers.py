"""Same book, same answers: two ingestions of one PDF rank every question's chunks identically, exactly."""

from __future__ import annotations

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.factories import course_pdf, ingest_course, sciq_chapters, sciq_items
from tests.retrieval.conftest import Parts
from tutor.settings import Settings


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


async def test_dense_search_is_exact_on_a_course_collection(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, parts: Parts
) -> None:
    # More chunks than Chroma keeps in its brute-force buffer (100), so the HNSW graph answers.
    course_id = await ingest_course(settings, sessions, [("book.pdf", course_pdf(sciq_chapters(8, 5, 4)))])
    everything = parts.store.client.get_collection(f"course_{course_id}").get(include=["embeddings"])
    matrix = np.asarray(everything["embeddings"], dtype=np.float32)
    assert len(matrix) > 150
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    for item in sciq_items()[:160:4]:
        query = np.asarray(parts.embedder.embed_query(item["question"]), dtype=np.float32)
        hits = parts.store.query(course_id, query.tolist(), k=40, embedding_model=parts.embedder.name)
        exact = np.sort(matrix @ (query / np.linalg.norm(query)))[::-1][:40]
        np.testing.assert_allclose([h.score for h in hits], exact, atol=1e-4)
