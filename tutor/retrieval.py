"""Retrieval: a question's best chunks in its course, from a dense and a lexical ranking fused, then reranked.

Dense similarity (Chroma) finds paraphrases but misses rare exact terms (an identifier, a code, a name the
embedding model never saw); BM25 over the chunks in PostgreSQL finds those. The two candidate lists are fused
by reciprocal rank, and the fused candidates reranked by dense similarity plus the share of the question's
stemmed terms each contains (weighted by rarity within the candidates) before the top k are cited.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import OrderedDict
from dataclasses import replace
from functools import lru_cache

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tutor.answers.quoting import read_question
from tutor.answers.sentence_store import SentenceCache, sentence_texts
from tutor.embeddings import Embedder
from tutor.lexical import LexicalHit, LexicalSearch
from tutor.llm.base import Passage
from tutor.textutil import terms
from tutor.vectorstore import Hit, VectorStore

# Measured on SciQ (887 questions, top-5 holding the answer / its gold paragraph): dense only 0.805 / 0.698;
# 40 dense candidates reranked 0.906 / 0.873; BM25 only 0.928 / 0.919; fusion alone 0.880 / 0.828; 40 fused
# candidates reranked 0.930 / 0.920 (the answer is verbatim in its gold paragraph for only 0.930 of them).
CANDIDATES_PER_RESULT = 8
LEXICAL_WEIGHT = 1.0
DENSE_WIDTH = 4  # dense similarities fetched for 4x the candidates, to score the lexical ones (ids only: cheap)
# Chunks whose sentence vectors are kept stacked (least recently used out): ~8 sentences of 384 floats each, ~12 KB.
SENTENCE_MATRICES = 2048
RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al. 2009)
# A chunk holding nearly all of the question's words, weighted by their rarity in the course, is about what was
# asked even when the embedding model cannot tell (a code, an identifier, a name it never saw).
LEXICAL_COVERS = 0.8
# Where a chunk sits says what it is for. A section named for the thing asked about ("Quicksort") explains it;
# a chapter's exercises ask about it and answer nothing (in a textbook they can be half of the chunks).
TITLE_WEIGHT = 0.2
PRACTICE_PENALTY = 0.15
PRACTICE = re.compile(
    r"^\W*(?:exercises?|problems?|homework|review questions|practice questions|self[- ]test|quiz(?:zes)?)\b", re.I
)
# How a student asks, not what about: "I don't understand X at all, help", "Can you explain X simply?". Left in,
# these words pull the question's embedding away from X (below the refusal threshold) and dilute its terms.
REQUEST = re.compile(
    r"\b(?:i\s+(?:really\s+|still\s+|just\s+)?(?:don'?t|do\s+not|can'?t|cannot)\s+(?:understand|get|see)"
    r"|(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:explain|help(?:\s+me)?(?:\s+with)?|tell\s+me\s+about)"
    r"|(?:please\s+)?explain(?:\s+to\s+me)?|help(?:\s+me)?(?:\s+(?:with|understand))?|at\s+all|please|simply"
    r"|in\s+simple\s+terms|i'?m\s+(?:so\s+)?(?:confused|lost|stuck)(?:\s+(?:about|by|with|on))?)\b",
    re.I,
)
ASKS_FOR_PRACTICE = re.compile(r"\b(?:exercises?|problems?|homework|practice|quiz)\b", re.I)


def passages_of(hits: list[Hit]) -> list[Passage]:
    """Retrieved chunks as the passages an answer cites, numbered from 1."""
    return [
        Passage(i, h.text, f"{h.metadata.filename} {h.metadata.pages}", h.metadata.topic_title)
        for i, h in enumerate(hits, 1)
    ]


def covers(hits: list[Hit], min_similarity: float) -> bool:
    """Whether the course covers the question: a close enough chunk, or one with (nearly) all its words."""
    return bool(hits) and (hits[0].score >= min_similarity or any(h.lexical >= LEXICAL_COVERS for h in hits))


@lru_cache(maxsize=2048)
def chunk_terms(text: str) -> frozenset[str]:
    """A chunk's terms, kept: the same chunks come back turn after turn, and stemming 40 of them took ~5 ms."""
    return frozenset(terms(text))


@lru_cache(maxsize=4096)
def title_terms(title: str) -> frozenset[str]:
    return frozenset(terms(re.sub(r"\(part \d+\)$", "", title)))


def titled_for(title: str, wanted: set[str]) -> bool:
    """The chunk's section is named for what was asked: every word of its title is in the question ("How does
    quicksort work?" and "Quicksort"; not "What is recursion?" and "Recursion Trees")."""
    named = title_terms(title)
    return bool(named) and named <= wanted


def search_text(query: str) -> str:
    """The question without the words of asking for help, when something is left to search for."""
    if not REQUEST.search(query):
        return query
    subject = " ".join(REQUEST.sub(" ", query).split()).strip(" ,.!?;:-")
    return subject if terms(subject) else query


def rerank(query: str, hits: list[Hit], k: int, meaning: list[float] | None = None) -> list[Hit]:
    """The k best of the fused candidates, by meaning (each chunk's similarity to the question, or `meaning`, its
    best sentence's), the question's rarer terms they hold, and their topic's title."""
    wanted = terms(query)
    if not wanted or not hits:
        return hits[:k]
    meaning = meaning or [h.score for h in hits]
    candidate_terms = [chunk_terms(h.text) for h in hits]
    # Rarity among the candidates: a term every candidate shares says little about which one answers.
    idf = {t: math.log(1 + len(hits) / (1 + sum(t in c for c in candidate_terms))) for t in wanted}
    total = sum(idf.values()) or 1.0
    practice_penalty = 0.0 if ASKS_FOR_PRACTICE.search(query) else PRACTICE_PENALTY
    scored = [
        (
            similarity
            + LEXICAL_WEIGHT * sum(idf[t] for t in wanted & c) / total
            + (TITLE_WEIGHT if titled_for(h.metadata.topic_title, wanted) else 0.0)
            - (practice_penalty if PRACTICE.match(h.metadata.topic_title) else 0.0),
            i,
            h,
        )
        for i, (h, c, similarity) in enumerate(zip(hits, candidate_terms, meaning, strict=True))
    ]
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [h for _, _, h in scored[:k]]


def fuse(dense: list[Hit], lexical: list[LexicalHit], k: int) -> list[Hit]:
    """Reciprocal rank fusion of the two rankings; ties in the order of the dense list, then the lexical one."""
    fused: dict[str, float] = {}
    by_id: dict[str, Hit] = {}
    for rank, h in enumerate(dense):
        fused[h.chunk_id] = 1 / (RRF_K + rank + 1)
        by_id[h.chunk_id] = h
    for rank, lh in enumerate(lexical):
        cid = lh.record.chunk_id
        fused[cid] = fused.get(cid, 0.0) + 1 / (RRF_K + rank + 1)
        known = by_id.get(cid)
        # A chunk only the lexical list found has no dense similarity yet (NaN until it is looked up).
        by_id[cid] = (
            replace(known, lexical=lh.coverage)
            if known
            else Hit(cid, lh.record.text, lh.record.metadata, math.nan, lh.coverage)
        )
    order = sorted(fused, key=lambda cid: -fused[cid])  # sorted() is stable: first-seen order breaks ties
    return [by_id[cid] for cid in order[:k]]


class Retriever:
    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        sessions: async_sessionmaker[AsyncSession],
        sentences: SentenceCache | None = None,
    ) -> None:
        """`sentences`: the course's stored sentence vectors (the quoting tutor's); with them a chunk is ranked by
        its sentence nearest to the question instead of by its average meaning."""
        self.store = store
        self.embedder = embedder
        self.lexical = LexicalSearch(sessions)
        self.sentences = sentences
        self._matrices: OrderedDict[str, np.ndarray] = OrderedDict()  # chunk text -> its sentences' vectors

    async def _meaning(self, course_id: int, asked: str, query: str, candidates: list[Hit]) -> list[float] | None:
        """Each candidate's best sentence's similarity to the question. A factual question is answered by a
        sentence, and a chunk's own vector averages its sentences: on SciQ the gold paragraph reaches the top 5 for
        0.967 of the questions this way, 0.959 by the chunks' vectors (how-to and explain questions, answered by a
        passage, keep the chunks' own). None (the chunks' own similarities decide) unless every candidate's
        sentences have stored vectors: nothing is embedded here (that would cost a turn seconds), and best-sentence
        similarities run higher than a chunk's, so a mix would favour the chunks quoted before."""
        if self.sentences is None or not candidates or read_question(asked).kind != "other":
            return None
        matrices = [self._matrices.get(h.text) for h in candidates]
        unknown = [h.text for h, m in zip(candidates, matrices, strict=True) if m is None]
        if unknown:
            await self.sentences.fetch(course_id, unknown)
            for i, h in enumerate(candidates):
                if matrices[i] is None:
                    if (matrix := self._sentence_matrix(h.text)) is None:
                        return None
                    matrices[i] = matrix
        for h in candidates:
            self._matrices.move_to_end(h.text)
        question = self.sentences.vectors.query(query)
        stacked = [m for m in matrices if m is not None]
        starts = np.cumsum([0] + [len(m) for m in stacked[:-1]])
        return [float(v) for v in np.maximum.reduceat(np.concatenate(stacked) @ question, starts)]

    def _sentence_matrix(self, text: str) -> np.ndarray | None:
        """A chunk's sentence vectors, one row each, kept for the next turns (stacking them is most of the cost)."""
        assert self.sentences is not None
        units = sentence_texts([text])
        known = self.sentences.vectors.known(units)
        if not units or len(known) < len(units):
            return None
        matrix = np.stack([known[u] for u in units])
        self._matrices[text] = matrix
        while len(self._matrices) > SENTENCE_MATRICES:
            self._matrices.popitem(last=False)
        return matrix

    def _nearest(self, course_id: int, query: str, n: int) -> list[tuple[str, float]]:
        vector = self.embedder.embed_query(query)
        return self.store.nearest(course_id, vector, k=n, embedding_model=self.embedder.name)

    async def retrieve(self, course_id: int, query: str, *, k: int = 5) -> list[Hit]:
        """The k best chunks; each Hit keeps its dense similarity as `score` (the refusal threshold reads it)."""
        n = k * CANDIDATES_PER_RESULT
        asked, query = query, search_text(query)
        # The question's embedding and dense search (a thread: ONNX, Chroma) and its lexical ranking (a round
        # trip) run side by side. The dense side fetches ids and similarities only: the chunks' text and
        # citations are in the lexical index's records, and a wider list scores the lexical candidates too.
        nearest_task = asyncio.ensure_future(asyncio.to_thread(self._nearest, course_id, query, DENSE_WIDTH * n))
        try:
            lexical = await self.lexical.search(course_id, query, n)
        finally:
            nearest = await nearest_task
        index = self.lexical.current(course_id)
        known = index.by_id if index is not None else {}
        # Chunks without rows: a course ingested before chunks were stored in PostgreSQL.
        missing = [cid for cid, _ in nearest[:n] if cid not in known]
        if missing:
            known = {**known, **await asyncio.to_thread(self.store.records, course_id, missing)}
        dense = [Hit(cid, known[cid].text, known[cid].metadata, sim) for cid, sim in nearest[:n] if cid in known]
        similarity = dict(nearest)
        # A lexical candidate beyond the wide dense list is at most as similar as its last chunk.
        floor = nearest[-1][1] if nearest else 0.0
        candidates = [
            replace(h, score=similarity.get(h.chunk_id, floor)) if math.isnan(h.score) else h
            for h in fuse(dense, lexical, n)
        ]
        return rerank(query, candidates, k, await self._meaning(course_id, asked, query, candidates))
