"""A factual question is ranked by the course's sentence nearest to it: the chunk that answers it in one sentence,
among others about something else, comes before a chunk that is about the subject as a whole but does not answer."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import Chapter, Section, course_pdf, ingest_course, sciq_chapters
from tests.retrieval.conftest import Parts
from tutor.answers.quoting import SentenceVectors
from tutor.answers.sentence_store import SentenceCache, SharedQueries, precompute_course
from tutor.retrieval import Retriever
from tutor.settings import Settings

ANSWER = "Gallium becomes a liquid at about 30 degrees Celsius"
BURIED = (
    "The laboratory keeps a small set of unusual samples for classroom demonstrations, stored in labelled jars on "
    "the second shelf of the prep room. Each jar carries a hazard label, the date it was opened and the initials of "
    f"the technician who checked it. {ANSWER}. The samples are audited every term, and any jar with a damaged seal "
    "or a faded label is replaced before the next class uses it. Spills are reported to the technician on duty and "
    "logged in the safety book kept beside the sink. Goggles and aprons hang by the door, and every student signs "
    "the register before a practical begins."
)
ABOUT = (
    "Gallium is a soft, silvery metal in group 13 of the periodic table, found in small amounts in bauxite and zinc "
    "ores. Most gallium produced today goes into semiconductors: gallium arsenide and gallium nitride are used in "
    "LEDs, laser diodes and solar cells. Gallium is not found free in nature and is recovered as a by-product of "
    "aluminium refining."
)
QUESTION = "At what temperature does gallium melt?"


def chapters() -> list[Chapter]:
    metals = Chapter(
        "Chapter 3: Metals",
        (Section("3.1 The demonstration shelf", (BURIED,)), Section("3.2 A soft metal for electronics", (ABOUT,))),
    )
    return [*sciq_chapters(2, 2, 1), metals]


async def test_the_chunk_whose_sentence_answers_comes_first(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], parts: Parts
) -> None:
    course_id = await ingest_course(settings, sessions, [("metals.pdf", course_pdf(chapters()))])
    by_chunks = await parts.retriever(sessions).retrieve(course_id, QUESTION, k=5)
    assert ANSWER not in by_chunks[0].text  # the chunks' own vectors prefer the one about gallium as a whole

    await precompute_course(sessions, parts.embedder, course_id)  # as the worker does once the course is ready
    vectors = SentenceVectors(parts.embedder)
    retriever = Retriever(
        parts.store,
        SharedQueries(parts.embedder, vectors),
        sessions,
        SentenceCache(sessions, vectors, parts.embedder.name),
    )
    hits = await retriever.retrieve(course_id, QUESTION, k=5)
    assert ANSWER in hits[0].text
    assert hits[0].score == next(h.score for h in by_chunks if h.chunk_id == hits[0].chunk_id)  # refusal reads it
