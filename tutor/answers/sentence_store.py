"""Quoted answers' sentence vectors kept in PostgreSQL, so each sentence of a course is embedded once, not once
per API process and restart, and not while a student waits.

The quoting tutor scores a shortlist of each answer's sentences by meaning; a sentence it has not met costs an
embedding (25-35 ms a turn on a busy 2-core machine, most of a quoted answer's time). The worker embeds every
quotable sentence of a course once the course is ready (`precompute_course`); before quoting, an API process
fetches the vectors its cache lacks for the turn's passages (one round trip, only when it lacks some) and keeps
for the other processes what it still had to embed itself (`SentenceCache`). A vector is found by its exact
text's hash and the model's name: a changed text is another sentence, never served another text's vector.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import SentenceVector
from tutor import chunks
from tutor.answers.passages import split_passage
from tutor.answers.quoting import SentenceVectors
from tutor.embeddings import Embedder

log = logging.getLogger(__name__)

# Sentences per embedding call and insert while a course is precomputed: the embedder sorts each call's texts by
# length, so a larger call pads less; an insert of 256 rows of 1.5 KB stays one modest statement.
PRECOMPUTE_BATCH = 256


def text_hash(sentence: str) -> bytes:
    return hashlib.blake2b(sentence.encode(), digest_size=16).digest()


def sentence_texts(passages: Iterable[str]) -> list[str]:
    """The quotable sentences (and code blocks) of the passages, once each, as the quoting tutor reads them."""
    return list(dict.fromkeys(s.text for p in passages for s in split_passage(p)))


async def fetch(session: AsyncSession, course_id: int, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
    """The stored vectors of those texts that have one."""
    by_hash = {text_hash(t): t for t in texts}
    rows = await session.execute(
        select(SentenceVector.text_hash, SentenceVector.vector).where(
            SentenceVector.course_id == course_id,
            SentenceVector.model == model,
            SentenceVector.text_hash.in_(list(by_hash)),
        )
    )
    return {by_hash[h]: np.frombuffer(v, dtype=np.float32) for h, v in rows if h in by_hash}


async def save(session: AsyncSession, course_id: int, model: str, vectors: Mapping[str, np.ndarray]) -> None:
    """Store vectors in the caller's transaction; one already stored is kept (the same text's, by its hash)."""
    if not vectors:
        return
    rows = [
        {
            "course_id": course_id,
            "model": model,
            "text_hash": text_hash(t),
            "vector": np.asarray(v, dtype=np.float32).tobytes(),
        }
        for t, v in vectors.items()
    ]
    await session.execute(insert(SentenceVector).values(rows).on_conflict_do_nothing())


async def precompute_course(sessions: async_sessionmaker[AsyncSession], embedder: Embedder, course_id: int) -> int:
    """Embed the course's quotable sentences that have no stored vector, and drop the vectors of sentences it no
    longer has (an edited or re-ingested file). Returns how many were embedded. A course deleted meanwhile stops it.
    """
    async with sessions() as session:
        stored = await chunks.course_chunks(session, course_id)
        have = set(
            await session.scalars(
                select(SentenceVector.text_hash).where(
                    SentenceVector.course_id == course_id, SentenceVector.model == embedder.name
                )
            )
        )
    texts = sentence_texts(c.record.text for c in stored)
    todo = [t for t in texts if text_hash(t) not in have]
    for start in range(0, len(todo), PRECOMPUTE_BATCH):
        batch = todo[start : start + PRECOMPUTE_BATCH]
        vectors = await asyncio.to_thread(embedder.embed_documents, batch)
        try:
            async with sessions() as session, session.begin():
                await save(session, course_id, embedder.name, dict(zip(batch, np.asarray(vectors), strict=True)))
        except IntegrityError:
            log.info("course %s was deleted while its sentence vectors were computed", course_id)
            return start
    keep = [text_hash(t) for t in texts]
    async with sessions() as session, session.begin():
        await session.execute(
            delete(SentenceVector).where(
                SentenceVector.course_id == course_id,
                SentenceVector.model == embedder.name,
                SentenceVector.text_hash.not_in(keep),
            )
        )
    return len(todo)


class SentenceCache:
    """The chat engine's side: a turn's sentence vectors fetched before quoting, the ones it embedded kept after."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], vectors: SentenceVectors, model: str) -> None:
        self.sessions, self.vectors, self.model = sessions, vectors, model

    async def fetch(self, course_id: int, passages: Iterable[str]) -> list[str]:
        """Fill this process's cache for the passages' sentences; returns those still without a vector."""
        missing = self.vectors.missing(sentence_texts(passages))
        if not missing:
            return []
        async with self.sessions() as session:
            found = await fetch(session, course_id, self.model, missing)
        self.vectors.add(found)
        return [t for t in missing if t not in found]

    async def keep(self, course_id: int, missing: Sequence[str]) -> None:
        """Store what the quote had to embed of the `missing` sentences, for every process (best effort)."""
        computed = self.vectors.known(missing)
        if not computed:
            return
        try:
            async with self.sessions() as session, session.begin():
                await save(session, course_id, self.model, computed)
        except Exception as exc:  # the answer is given; the next process embeds the sentence again, nothing worse
            log.warning("could not store %d sentence vector(s) of course %s: %s", len(computed), course_id, exc)


class SharedQueries:
    """The embedder, with question vectors shared with the quoting tutor's cache: retrieval and the quote embed
    a turn's question once, not twice."""

    def __init__(self, embedder: Embedder, vectors: SentenceVectors) -> None:
        self.embedder, self.vectors = embedder, vectors
        self.name, self.dimension = embedder.name, embedder.dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        vector: list[float] = self.vectors.query(text).tolist()
        return vector
