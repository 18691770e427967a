"""Content gaps grouped: student questions the course could not answer, similar wordings counted together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tutor.textutil import terms
from tutor.transcripts import ContentGap, content_gaps

# Two questions are one gap when their content words (stemmed) overlap this much (Jaccard): "how do black holes
# evaporate?" and "why do black holes evaporate" share all of theirs; "what are black holes" and "what are
# black cats" share a third.
SIMILAR = 0.5
# Distinct wordings read: a course with more unanswered wordings than this is grouped over its most asked.
WORDINGS = 2000


@dataclass(frozen=True)
class GapWording:
    question: str
    asked: int


@dataclass
class GapGroup:
    example: str  # the group's most asked wording
    asked: int  # every time any of its wordings was asked
    last_asked: datetime | None
    closest_topics: str
    questions: list[GapWording] = field(default_factory=list)


def group_gaps(gaps: list[ContentGap], *, similar: float = SIMILAR) -> list[GapGroup]:
    """Greedy: wordings, most asked first, join the first group whose example they resemble, else start one."""
    groups: list[tuple[set[str], GapGroup]] = []
    for gap in sorted(gaps, key=lambda g: (-g.asked, g.question)):
        words = terms(gap.question) or {gap.question}
        home = next((group for key, group in groups if _overlap(words, key) >= similar), None)
        if home is None:
            home = GapGroup(gap.question, 0, None, gap.closest_topics)
            groups.append((words, home))
        home.asked += gap.asked
        home.questions.append(GapWording(gap.question, gap.asked))
        if gap.last_asked and (home.last_asked is None or gap.last_asked > home.last_asked):
            home.last_asked = gap.last_asked
        home.closest_topics = home.closest_topics or gap.closest_topics
    found = [group for _, group in groups]
    found.sort(key=lambda g: (-g.asked, -(g.last_asked.timestamp() if g.last_asked else 0.0), g.example))
    return found


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b)


async def grouped_content_gaps(session: AsyncSession, course_id: int, limit: int = 50) -> list[GapGroup]:
    return group_gaps(await content_gaps(session, course_id, WORDINGS))[:limit]
