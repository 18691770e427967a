"""Courses built by the real pipeline for the retrieval tests, and the retrieval side of the service."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import Chapter, Section, sciq_chapters
from tutor.embeddings import Embedder, get_embedder
from tutor.retrieval import Retriever
from tutor.settings import Settings
from tutor.vectorstore import VectorStore, open_vector_store

# A code that means nothing to an embedding model: only its exact spelling finds its paragraph.
CODE = "XQ-7741"
CODE_PARAGRAPH = (
    "Field samples are catalogued before they reach the laboratory. The basalt core from the northern crater "
    f"was logged under the reference {CODE}, weighed on arrival, and stored in the cold room with the others "
    "from the same expedition until its thin sections could be cut and examined under polarised light."
)


def chapters_with_code() -> list[Chapter]:
    """Three SciQ chapters, and a fourth whose one section hides the code in ordinary prose."""
    extra = Chapter(
        "Chapter 4: Laboratory records",
        (
            Section(
                "4.1 Keeping records", (sciq_chapters(1, 1, 1, offset=60)[0].sections[0].paragraphs[0], CODE_PARAGRAPH)
            ),
        ),
    )
    return [*sciq_chapters(3, 3, 2), extra]


@dataclass(frozen=True)
class Parts:
    store: VectorStore
    embedder: Embedder

    def retriever(self, sessions: async_sessionmaker[AsyncSession]) -> Retriever:
        return Retriever(self.store, self.embedder, sessions)


@pytest.fixture(scope="module")
def parts(settings: Settings) -> Parts:
    return Parts(open_vector_store(settings), get_embedder(settings))
