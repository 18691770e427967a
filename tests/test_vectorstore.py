"""The chat keeps Chroma collection handles; a collection replaced behind its back must not break or mislead it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.settings import Settings
from tutor.vectorstore import ChunkMetadata, ChunkRecord, EmbeddingMismatchError, IndexMissingError, open_vector_store

COURSE = 424242


def record(n: int) -> ChunkRecord:
    meta = ChunkMetadata(COURSE, 1, 2, 1, "Cells", "f1", "bio.pdf", n, n)
    return ChunkRecord(f"c{COURSE}-{n}", f"chunk {n}", meta)


def test_a_replaced_collection_is_looked_up_again(tmp_path: Path) -> None:
    settings = Settings(chroma_path=tmp_path / "chroma")
    chat, worker = open_vector_store(settings), open_vector_store(settings)  # e.g. the API and a worker
    worker.upsert(COURSE, [record(1)], [[1.0, 0.0, 0.0]], embedding_model="m", dimension=3)
    chat.check(COURSE, "m")
    assert [h.chunk_id for h in chat.query(COURSE, [1.0, 0.0, 0.0], k=5, embedding_model="m")] == [f"c{COURSE}-1"]

    worker.delete_course(COURSE)  # the teacher re-ingests: the collection is dropped and built again
    with pytest.raises(IndexMissingError):
        chat.check(COURSE, "m")
    worker.upsert(COURSE, [record(2)], [[0.0, 1.0, 0.0]], embedding_model="m", dimension=3)
    assert [h.chunk_id for h in chat.query(COURSE, [0.0, 1.0, 0.0], k=5, embedding_model="m")] == [f"c{COURSE}-2"]

    worker.delete_course(COURSE)
    worker.upsert(COURSE, [record(3)], [[0.0, 0.0, 1.0]], embedding_model="other", dimension=3)
    with pytest.raises(EmbeddingMismatchError):
        chat.query(COURSE, [0.0, 0.0, 1.0], k=5, embedding_model="m")
