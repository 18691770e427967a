"""Lexical ranking of a course's chunks: BM25 over the lexemes PostgreSQL stored for them (course_chunks).

Each process keeps one index per course in memory, built from one read of its rows; every query's round trip
(which also tokenizes the question with the chunks' own tokenizer) returns the course's chunk version, and a
changed version rebuilds the index before it is used, so a deleted file is never ranked.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tutor import chunks
from tutor.chunks import ChunkVersion
from tutor.vectorstore import ChunkRecord

# BM25's usual constants (Robertson & Zaragoza): term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class LexicalHit:
    record: ChunkRecord
    score: float  # BM25
    coverage: float  # share of the question's term weight (idf) that the chunk contains, 0..1


@dataclass(frozen=True)
class Posting:
    docs: npt.NDArray[np.int32]
    weights: npt.NDArray[np.float32]  # BM25's saturated, length-normalised term frequency in each doc


class CourseIndex:
    def __init__(self, version: ChunkVersion, rows: list[chunks.ChunkLexemes]) -> None:
        self.version = version
        self.records = [r.chunk.record for r in rows]
        lengths = np.array([sum(r.counts) for r in rows], dtype=np.float32)
        average = float(lengths.mean()) if len(rows) else 1.0
        norm = K1 * (1 - B + B * lengths / max(average, 1.0))
        docs: dict[str, list[int]] = defaultdict(list)
        tfs: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            for lexeme, count in zip(r.lexemes, r.counts, strict=True):
                docs[lexeme].append(i)
                tfs[lexeme].append(count)
        self.postings: dict[str, Posting] = {}
        for lexeme, where in docs.items():
            at = np.array(where, dtype=np.int32)
            tf = np.array(tfs[lexeme], dtype=np.float32)
            self.postings[lexeme] = Posting(at, (tf * (K1 + 1) / (tf + norm[at])).astype(np.float32))
        n = len(rows)
        self.idf = {t: math.log(1 + (n - len(p.docs) + 0.5) / (len(p.docs) + 0.5)) for t, p in self.postings.items()}
        self.rarest = max(self.idf.values(), default=1.0)
        self.by_id = {r.chunk_id: r for r in self.records}

    def search(self, lexemes: list[str], k: int) -> list[LexicalHit]:
        wanted = [t for t in dict.fromkeys(lexemes) if t in self.postings]
        if not wanted or k <= 0:
            return []
        scores = np.zeros(len(self.records), dtype=np.float32)
        covered = np.zeros(len(self.records), dtype=np.float32)
        for t in wanted:
            p = self.postings[t]
            scores[p.docs] += self.idf[t] * p.weights
            covered[p.docs] += self.idf[t]
        # Every term of the question counts towards coverage, also those the course never uses.
        total = sum(self.idf.get(t, self.rarest) for t in dict.fromkeys(lexemes)) or 1.0
        matched = np.flatnonzero(scores > 0)
        # Ties broken by row order (stable), so a ranking never depends on hash order or timing.
        top = matched[np.argsort(-scores[matched], kind="stable")][:k]
        return [LexicalHit(self.records[i], float(scores[i]), float(covered[i]) / total) for i in top]


class LexicalSearch:
    """Per-course BM25 indexes of this process, rebuilt when the course's chunks change."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._indexes: dict[int, CourseIndex] = {}
        self._building: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def search(self, course_id: int, query: str, k: int) -> list[LexicalHit]:
        async with self.sessions() as session:
            lexemes, version = await chunks.query_lexemes(session, course_id, query)
        index = self._indexes.get(course_id)
        if index is None or index.version != version:
            index = await self._build(course_id, version)
        return index.search(lexemes, k)

    def current(self, course_id: int) -> CourseIndex | None:
        """The course's index as the last search left it (its records: the course's chunks, text and citation)."""
        return self._indexes.get(course_id)

    async def _build(self, course_id: int, version: ChunkVersion) -> CourseIndex:
        async with self._building[course_id]:  # concurrent first questions build it once
            index = self._indexes.get(course_id)
            if index is not None and index.version == version:
                return index
            async with self.sessions() as session:
                rows = await chunks.chunk_lexemes(session, course_id)
            # The version of what was read (another job may have committed since the question's round trip).
            read = ChunkVersion(len(rows), max((r.chunk.id for r in rows), default=0))
            index = await asyncio.to_thread(CourseIndex, read, rows)
            self._indexes[course_id] = index
            return index
