"""Retrieval: a question's nearest chunks in its course's index, with their citations."""

from __future__ import annotations

from tutor.embeddings import Embedder
from tutor.vectorstore import Hit, VectorStore


class Retriever:
    def __init__(self, store: VectorStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(self, course_id: int, query: str, *, k: int = 5) -> list[Hit]:
        return self.store.query(course_id, self.embedder.embed_query(query), k=k, embedding_model=self.embedder.name)
