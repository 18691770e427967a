"""The extractive provider: no generative model; the answer is the passages' best sentences, cited.

Deterministic, instant and grounded by construction, which makes it the test default and a safe fallback.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator

from tutor.llm.base import GenerationRequest, Passage

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(])")
WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "me",
        "my",
        "i",
        "about",
        "into",
        "than",
        "then",
        "there",
        "these",
        "those",
        "their",
        "they",
        "we",
        "our",
        "us",
    ]
)
NOT_FOUND = "I couldn't find this in the course material."


def _terms(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOP and len(w) > 1]


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "s", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def best_sentences(question: str, passages: list[Passage], limit: int = 3) -> list[tuple[str, int]]:
    """(sentence, citation number) pairs, ranked by how much of the question they cover."""
    q_terms = {_stem(t) for t in _terms(question)}
    q_bigrams = set(zip(_terms(question), _terms(question)[1:], strict=False))
    if not q_terms:
        return []
    scored: list[tuple[float, int, int, str, int]] = []
    for rank, passage in enumerate(passages):
        for position, sentence in enumerate(SENTENCE.split(passage.text.replace("\n", " "))):
            words = _terms(sentence)
            if len(words) < 4:
                continue
            stems = {_stem(w) for w in words}
            overlap = len(q_terms & stems) / len(q_terms)
            bigrams = len(q_bigrams & set(itertools.pairwise(words)))
            score = overlap + 0.3 * bigrams - 0.02 * rank - 0.01 * position
            if overlap > 0:
                scored.append((score, rank, position, sentence.strip(), passage.number))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    if not scored or scored[0][0] < 0.25:
        return []
    top = [s for s in scored if s[0] >= scored[0][0] * 0.5][:limit]
    # Read in the order the course tells it: passage rank, then position in the passage.
    top.sort(key=lambda s: (s[1], s[2]))
    return [(sentence, number) for _, _, _, sentence, number in top]


class ExtractiveLLM:
    name = "extractive"
    model = "extractive"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        picked = best_sentences(request.question, request.passages)
        if not picked:
            yield NOT_FOUND
            return
        text = " ".join(f"{sentence.rstrip()} [{number}]" for sentence, number in picked)
        first = True
        for word in text.split(" "):
            yield word if first else f" {word}"
            first = False
