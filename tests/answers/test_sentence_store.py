"""Stored sentence vectors: a course's sentences are embedded once, for every process, and an edited course is never
quoted with the vectors of text it no longer has."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import SentenceVector, SourceFile
from ingestion.pipeline import Ingestor
from ingestion.storage import open_storage
from ingestion.uploads import UploadedFile, accept_upload
from tests.factories import Chapter, Section, course_pdf, ingest_course, sciq_chapters, sciq_items
from tests.retrieval.conftest import CODE, CODE_PARAGRAPH
from tutor import chunks
from tutor.answers.quoting import QuotingTutor
from tutor.answers.sentence_store import SentenceCache, SharedQueries, precompute_course, sentence_texts, text_hash
from tutor.embeddings import Embedder, get_embedder
from tutor.identity import Principal
from tutor.llm.base import Passage
from tutor.retrieval import Retriever
from tutor.settings import Settings
from tutor.vectorstore import open_vector_store

TEACHER = "teacher-vectors"


class Counting:
    """The real embedder, counting what it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.documents = self.queries = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return self.inner.embed_query(text)


async def _texts(sessions: async_sessionmaker[AsyncSession], course_id: int) -> list[str]:
    async with sessions() as session:
        return sentence_texts(c.record.text for c in await chunks.course_chunks(session, course_id))


async def _stored(sessions: async_sessionmaker[AsyncSession], course_id: int) -> set[bytes]:
    async with sessions() as session:
        return set(await session.scalars(select(SentenceVector.text_hash).where(SentenceVector.course_id == course_id)))


async def test_sentences_are_embedded_once_and_an_edited_course_keeps_only_its_own_vectors(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    embedder = get_embedder(settings)
    chapters = sciq_chapters(1, 2, 1, offset=70)
    course_id = await ingest_course(settings, sessions, [("cells.pdf", course_pdf(chapters))], teacher=TEACHER)
    texts = await _texts(sessions, course_id)
    assert await precompute_course(sessions, embedder, course_id) == len(texts) > 3
    assert await precompute_course(sessions, embedder, course_id) == 0  # nothing new: nothing embedded again
    assert await _stored(sessions, course_id) == {text_hash(t) for t in texts}

    # A fresh API process (empty cache) gets the turn's sentences from the store: the quote embeds none of them,
    # and retrieval and the quote embed the question once between them.
    spy = Counting(embedder)
    tutor = QuotingTutor(spy)
    assert tutor.vectors is not None
    cache = SentenceCache(sessions, tutor.vectors, embedder.name)
    retriever = Retriever(open_vector_store(settings), SharedQueries(spy, tutor.vectors), sessions)
    item = sciq_items()[70]
    hits = await retriever.retrieve(course_id, item["question"], k=3)
    passages = [Passage(i, h.text, h.metadata.filename) for i, h in enumerate(hits, 1)]
    assert await cache.fetch(course_id, (p.text for p in passages)) == []
    answer = tutor.answer(item["question"], passages)
    assert answer.covered and spy.documents == 0 and spy.queries == 1
    # The stored vectors are their own texts' (int8 batches differ from one another by < 1%).
    fresh = np.asarray(embedder.embed_documents(texts))
    kept = tutor.vectors.known(texts)
    assert min(float(fresh[i] @ kept[t]) for i, t in enumerate(texts) if t in kept) > 0.98

    # The teacher replaces the file with an edited one: one paragraph is new, the others are unchanged.
    edited = [
        Chapter(chapters[0].heading, (chapters[0].sections[0], Section("1.2 Records", (CODE_PARAGRAPH,)))),
    ]
    async with sessions() as session, session.begin():
        await session.execute(SourceFile.__table__.delete().where(SourceFile.course_id == course_id))
        receipt = await accept_upload(
            session,
            open_storage(settings),
            settings,
            uploader=Principal(TEACHER, "teacher"),
            files=[UploadedFile("cells-v2.pdf", course_pdf(edited))],
            title="Science",
            description=None,
            course_id=course_id,
        )
    await Ingestor(settings, sessions, open_storage(settings), open_vector_store(settings), embedder).run(
        receipt.job_id
    )
    now = await _texts(sessions, course_id)
    new = [t for t in now if t not in texts]
    assert new and any(CODE in t for t in new)
    # Only the new sentences are embedded; the vectors of sentences the course no longer has are gone.
    assert await precompute_course(sessions, embedder, course_id) == len(new)
    assert await _stored(sessions, course_id) == {text_hash(t) for t in now}

    # The tutor answers from the edited text, each sentence scored with its own text's vector.
    question = f"Under which reference was the basalt core logged ({CODE})?"
    hits = await retriever.retrieve(course_id, question, k=3)
    passages = [Passage(i, h.text, h.metadata.filename) for i, h in enumerate(hits, 1)]
    assert await cache.fetch(course_id, (p.text for p in passages)) == []
    before = spy.documents
    answer = tutor.answer(question, passages)
    assert CODE in answer.text() and spy.documents == before
    for t, vector in tutor.vectors.known(sentence_texts(p.text for p in passages)).items():
        assert float(np.asarray(embedder.embed_documents([t])[0]) @ vector) > 0.98, t
