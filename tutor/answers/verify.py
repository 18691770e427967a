"""Verified generation: each sentence a model writes is checked against the course passages it cites.

A sentence is supported when the passage has a sentence (or two neighbouring ones) that holds its content words,
every number and named term in it, and that means nearly the same (embedding similarity). Words a paraphrase
brings (general verbs, adjectives, connectives) are allowed; a term the passage does not have is not: that is how
a swapped fact ("... is called a depth") reads. Questions and short asides are not claims and pass.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from tutor.answers.passages import split_passage
from tutor.answers.quoting import SentenceVectors
from tutor.embeddings import Embedder
from tutor.llm.base import Passage
from tutor.textutil import COMMON_WORDS, QUESTION_WORDS, STOP, stem, tokens

CITATION = re.compile(r"\s*\[(\d{1,2})\]")
# A sentence ends at . ! or ? followed by space (its citations, if any, come just before or after the mark).
SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d{1,2}\])*(?=\s)|(?<=\])(?=\s+[A-Z])")
NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "twenty",
        "thirty",
        "hundred",
        "thousand",
        "million",
        "billion",
        "half",
        "twice",
        "double",
        "triple",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
    ]
)
# Words a faithful paraphrase brings without adding a fact: general verbs, quantifiers, connectives, frames.
PARAPHRASE = frozenset(
    [
        "great",
        "good",
        "question",
        "questions",
        "hope",
        "glad",
        "sure",
        "happy",
        "ask",
        "asked",
        "let",
        "look",
        "according",
        "basically",
        "brief",
        "briefly",
        "course",
        "explain",
        "explains",
        "explained",
        "lesson",
        "note",
        "notes",
        "passage",
        "passages",
        "say",
        "short",
        "simply",
        "states",
        "summary",
        "text",
        "textbook",
        "able",
        "about",
        "actually",
        "allow",
        "allows",
        "also",
        "although",
        "amount",
        "another",
        "any",
        "anything",
        "approximately",
        "around",
        "as",
        "basically",
        "become",
        "becomes",
        "being",
        "big",
        "bigger",
        "both",
        "bring",
        "brings",
        "call",
        "called",
        "calls",
        "case",
        "cases",
        "cause",
        "caused",
        "causes",
        "certain",
        "change",
        "changes",
        "common",
        "commonly",
        "consist",
        "consists",
        "contain",
        "contains",
        "could",
        "describe",
        "described",
        "describes",
        "different",
        "does",
        "done",
        "due",
        "during",
        "each",
        "either",
        "else",
        "enough",
        "especially",
        "essentially",
        "even",
        "example",
        "examples",
        "fact",
        "form",
        "forms",
        "found",
        "general",
        "generally",
        "get",
        "gets",
        "give",
        "gives",
        "given",
        "go",
        "goes",
        "going",
        "happen",
        "happens",
        "has",
        "have",
        "help",
        "helps",
        "here",
        "however",
        "important",
        "include",
        "included",
        "includes",
        "including",
        "instance",
        "involve",
        "involves",
        "it's",
        "its",
        "just",
        "key",
        "kind",
        "kinds",
        "known",
        "large",
        "larger",
        "least",
        "less",
        "like",
        "likely",
        "made",
        "main",
        "mainly",
        "make",
        "makes",
        "making",
        "many",
        "may",
        "mean",
        "means",
        "might",
        "more",
        "most",
        "mostly",
        "much",
        "must",
        "namely",
        "need",
        "needs",
        "no",
        "not",
        "note",
        "number",
        "numerous",
        "occur",
        "occurs",
        "often",
        "one",
        "ones",
        "other",
        "others",
        "part",
        "particular",
        "parts",
        "per",
        "perhaps",
        "place",
        "play",
        "plays",
        "possible",
        "process",
        "produce",
        "produced",
        "produces",
        "provide",
        "provides",
        "put",
        "rather",
        "refer",
        "referred",
        "refers",
        "result",
        "results",
        "role",
        "said",
        "same",
        "say",
        "says",
        "see",
        "seen",
        "several",
        "show",
        "shown",
        "shows",
        "similar",
        "simply",
        "since",
        "small",
        "smaller",
        "so",
        "some",
        "something",
        "sometimes",
        "specific",
        "still",
        "such",
        "take",
        "takes",
        "term",
        "terms",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "therefore",
        "these",
        "they",
        "thing",
        "things",
        "this",
        "those",
        "though",
        "through",
        "thus",
        "together",
        "too",
        "two",
        "type",
        "types",
        "typical",
        "typically",
        "use",
        "used",
        "uses",
        "using",
        "usually",
        "various",
        "very",
        "way",
        "ways",
        "what",
        "when",
        "where",
        "whereas",
        "which",
        "while",
        "who",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "word",
        "words",
        "would",
        "yes",
    ]
)
GENERIC = STOP | COMMON_WORDS | QUESTION_WORDS | PARAPHRASE
MIN_SIMILARITY = 0.55  # the best passage sentence must mean nearly the same
# An answer sentence this close in meaning to a course sentence says it in other words. MiniLM cosine on 234 SciQ
# answer sentences: light rewordings median 0.965 (97% at or above), the paragraph's other sentences median 0.53
# (none). Only shown sentences count, and those passed the support check, so a swapped fact is not among them.
PARAPHRASE_SIMILARITY = 0.85
ALIGNED = 2  # windows nearest in meaning the claim may be supported by
MIN_CLAIM_WORDS = 1  # "Great question!" is not a claim: it has no content word


@dataclass(frozen=True)
class Verdict:
    sentence: str  # as written, citations included
    cited: tuple[int, ...]
    supported: bool
    claim: bool  # False for questions and asides, which pass unchecked
    reason: str = ""  # why not supported: the words, numbers or meaning the passages lack
    similarity: float = 0.0


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)?", text)) | {w for w in tokens(text) if w in NUMBER_WORDS}


def _named(text: str) -> set[str]:
    """Capitalised words inside a sentence (not its first): names of people, places, laws, elements."""
    found = re.findall(r"(?<=[\w,;] )[A-Z][a-zA-Z-]+", text)
    return {w.lower() for w in found}


def _content(text: str) -> set[str]:
    return {stem(w) for w in tokens(text) if w not in GENERIC and len(w) > 1 and not w.isdigit()}


@dataclass
class SupportChecker:
    """Checks sentences against passages; the embedder (optional) adds the check of meaning."""

    embedder: Embedder | None = None
    vectors: SentenceVectors | None = field(default=None)

    def __post_init__(self) -> None:
        if self.vectors is None and self.embedder is not None:
            self.vectors = SentenceVectors(self.embedder)

    def check(self, sentence: str, passages: Sequence[Passage]) -> Verdict:
        cited = tuple(dict.fromkeys(int(n) for n in CITATION.findall(sentence)))
        claim = CITATION.sub("", sentence).strip()
        if claim.endswith("?") or (len(_content(claim)) < MIN_CLAIM_WORDS and not _numbers(claim)):
            return Verdict(sentence, cited, True, False)
        # The passages it cites; a sentence that cites none must be supported by one of them all.
        sources = [p for p in passages if p.number in cited] or list(passages)
        if not sources:
            return Verdict(sentence, cited, False, True, "no passage to check against")
        words, numbers, named = _content(claim), _numbers(claim), _named(claim)
        counts = Counter(stem(w) for w in tokens(claim) if stem(w) in words)
        windows: list[tuple[float, float, set[str]]] = []  # (coverage, similarity, missing)
        query = self.vectors.query(claim) if self.vectors is not None else None
        for passage in sources:
            units = [s.text for s in split_passage(passage.text)] or [passage.text]
            dense = (
                self.vectors.passage(passage.text) @ query
                if self.vectors is not None and query is not None and split_passage(passage.text)
                else np.zeros(len(units))
            )
            for i, unit in enumerate(units):
                # A claim may join two neighbouring sentences of the course.
                window = unit if i + 1 >= len(units) else f"{unit} {units[i + 1]}"
                present = Counter(stem(w) for w in tokens(window))
                # A term said more often than the passage says it ("fetus or a fetus") replaced another.
                repeated = {f"{t} (repeated)" for t, n in counts.items() if n > max(1, present[t])}
                missing = (
                    (words - present.keys())
                    | repeated
                    | {n for n in numbers if n not in window.lower()}
                    | {w for w in named if stem(w) not in present}
                )
                coverage = 1 - len(missing) / max(1, len(words | numbers | named))
                similarity = float(max(dense[i], dense[i + 1] if i + 1 < len(dense) else -1.0)) if len(dense) else 1.0
                windows.append((coverage, similarity, missing))
        # The claim is held against what it paraphrases (the windows nearest in meaning), not against any
        # sentence that happens to share its words: a swapped term often appears elsewhere in the passage.
        nearest = sorted(windows, key=lambda w: -w[1])[:ALIGNED] if query is not None else windows
        coverage, similarity, missing = max(nearest, key=lambda w: (w[0], w[1]))
        if missing:
            return Verdict(
                sentence, cited, False, True, "not in the passage: " + ", ".join(sorted(missing)), similarity
            )
        if query is not None and similarity < MIN_SIMILARITY:
            return Verdict(sentence, cited, False, True, "the passage says something else", similarity)
        return Verdict(sentence, cited, True, True, "", similarity)


def already_says(checker: SupportChecker, answer: str, sentence: str) -> bool:
    """Whether the answer already says what a course sentence says: its words (the support check, with the answer
    as the passage) or its meaning (a paraphrase: one of the answer's sentences means nearly the same)."""
    claim = CITATION.sub("", sentence).strip()
    text = CITATION.sub("", answer).strip()
    if not claim or not text:
        return not claim
    if checker.check(claim, [Passage(0, text, "")]).supported:
        return True
    vectors = checker.vectors
    if vectors is None or not split_passage(text):
        return False
    return bool(float(np.max(vectors.passage(text) @ vectors.query(claim))) >= PARAPHRASE_SIMILARITY)


class SentenceStream:
    """Cuts streamed text into whole sentences (with the citations that follow them) as they complete."""

    def __init__(self) -> None:
        self.buffer = ""

    def feed(self, delta: str) -> Iterator[str]:
        self.buffer += delta
        while True:
            match = SENTENCE_END.search(self.buffer)
            # The end is certain only once text follows it: a citation may still be coming.
            if match is None or not self.buffer[match.end() :].strip():
                return
            rest = self.buffer[match.end() :]
            if re.match(r"\s*\[\d*$", rest):
                return
            sentence, self.buffer = self.buffer[: match.end()], rest
            yield sentence

    def finish(self) -> Iterator[str]:
        if self.buffer.strip():
            yield self.buffer
        self.buffer = ""


@dataclass
class Verification:
    """What the checker found in one answer; recorded with the reply so teachers see it in transcripts."""

    verdicts: list[Verdict] = field(default_factory=list)
    fallback: bool = False  # nothing the model wrote held up: the quoted answer was given instead
    # Course sentences that answer the question, which the model's supported sentences left out, added after them.
    completed: int = 0

    @property
    def verified(self) -> int:
        return sum(v.claim and v.supported for v in self.verdicts)

    @property
    def unsupported(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.supported]

    def metadata(self) -> dict[str, object]:
        return {
            "verified": self.verified,
            "unsupported": [{"sentence": v.sentence.strip(), "reason": v.reason} for v in self.unsupported],
            "fallback": self.fallback,
            "completed_from_course": self.completed,
        }


async def verified(
    deltas: AsyncIterator[str], passages: Sequence[Passage], checker: SupportChecker, record: Verification
) -> AsyncIterator[str]:
    """The model's text, a whole sentence at a time, without the sentences the passages do not support."""
    cutter = SentenceStream()
    shown = 0

    async def judged(sentence: str) -> str | None:
        nonlocal shown
        # Off the event loop: a sentence the embedder has not seen costs a few milliseconds.
        verdict = await asyncio.to_thread(checker.check, sentence, passages)
        record.verdicts.append(verdict)
        if not verdict.supported:
            return None
        shown += 1
        return sentence.lstrip() if shown == 1 else sentence

    async for delta in deltas:
        for sentence in cutter.feed(delta):
            if (text := await judged(sentence)) is not None:
                yield text
    for sentence in cutter.finish():
        if (text := await judged(sentence)) is not None:
            yield text
