"""The quoting tutor: the course's own sentences that answer a question, each cited, chosen by meaning and words.

Candidate sentences of the retrieved passages are scored against the question by the embedding model (their
vectors are computed once per passage and kept) and by lexical evidence (the question's terms, weighted by
rarity among the candidates, and its word pairs). What kind of question it is shapes the choice: a definition
starts from the sentence that defines the term, a "how" or "example" question brings the passage's example or
code, a difference question quotes both sides. Each sentence is quoted once, however many chunks repeat it.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

import numpy as np

from tutor.answers.passages import Sentence, split_passage
from tutor.embeddings import Embedder
from tutor.llm.base import Passage
from tutor.textutil import EXERCISES, stem, words

Kind = Literal["definition", "explain", "how", "example", "difference", "error", "other"]

NOT_FOUND = "I couldn't find this in the course material."
WITHHELD = "The course's answer to that would give away the quiz question that is open; ask me again after it."
MAX_SENTENCES = 3

DIFFERENCE = re.compile(
    r"\b(?:differen(?:ce|t|ces)|differ|distinguish|compare[ds]?|comparison|versus|vs\.?|contrast)\b", re.I
)
PAIR = re.compile(
    r"\b(?:between|of|compare|comparing|contrast)\s+(?P<a>.+?)\s+(?:and|with|to|vs\.?|versus)\s+(?P<b>.+?)\s*(?:[?.!]|$)",
    re.I,
)
VERSUS = re.compile(r"(?P<a>[\w' -]+?)\s+(?:vs\.?|versus)\s+(?P<b>[\w' -]+)", re.I)
ERROR = re.compile(r"\b\w*(?:Error|Exception|Warning)\b|\berror\b|\bexception\b|\bcrash\w*\b|\bfails?\b", re.I)
EXAMPLE = re.compile(r"\b(?:examples?|instance|illustrate|demonstrate|show me)\b", re.I)
HOW = re.compile(r"^\s*(?:how\s+(?:do|does|can|could|should|would|to|is|are)\b|how\b)|\bhow to\b|\bsteps\b", re.I)
DEFINITION = re.compile(
    r"^\s*(?:(?:so\s+)?what(?:'s|\s+is|\s+are|\s+was|\s+were|\s+does)\s+(?:an?\s+|the\s+)?(?P<a>.+?)(?:\s+mean)?"
    r"|define\s+(?P<b>.+?)|(?:what\s+is\s+meant\s+by|meaning\s+of|definition\s+of)\s+(?P<c>.+?))\s*[?.!]*$",
    re.I,
)
EXPLAIN = re.compile(r"\b(?:explain|understand|confus\w*|tell me about|help me with|what about|describe)\b", re.I)
# Words of a request that are not its subject ("explain recursion simply", "I don't understand X at all, help").
META = frozenset(
    [
        "explain",
        "understand",
        "understanding",
        "confused",
        "confusing",
        "help",
        "simply",
        "simple",
        "please",
        "tell",
        "describe",
        "example",
        "examples",
        "give",
        "show",
        "difference",
        "differences",
        "different",
        "between",
        "compare",
        "versus",
        "vs",
        "mean",
        "means",
        "meaning",
        "define",
        "definition",
        "don't",
        "dont",
        "not",
        "at",
        "all",
        "get",
        "getting",
        "why",
        "course",
        "say",
        "says",
        "work",
        "works",
        "used",
        "use",
        "happen",
        "happens",
    ]
)
# Words that point at something said before rather than name it ("what does the course say about this topic?").
REFERRING = frozenset(["topic", "topics", "question", "thing", "things", "concept", "idea", "term", "part", "one"])
# A sentence that defines or introduces a term: "X is/are/refers to/means ...", "... is called X".
# "X is used/was designed ..." says what was done with X, not what it is: a participle after "is" does not define,
# unless it names ("is called", "is defined as").
DEFINES_AFTER = (
    r"(?:(?:is|are)\b(?!\s+(?:\w+ly\s+)?(?!(?:called|named|termed|known|defined)\b)\w+ed\b)"
    r"|refers?\s+to|means?|denotes?|describes?|consists?\s+of)\b"
)
DEFINES_BEFORE = r"(?:called|named|termed|known\s+as|defined\s+as|define|definition\s+of|we\s+call|refer\s+to)\s+"
ANAPHOR = re.compile(r"^(?:this|these|that|those|it|its|they|their|such|both|the latter|the former)\b", re.I)
# A step of a procedure: "Divide the input array ...", "Recursively sort ...", "First, ...".
STEP = re.compile(
    r"^(?:first|then|next|finally|recursively|divide|choose|partition|merge|combine|compute|move|return|repeat|"
    r"sort|split|find|build|start|add|remove|call)\b",
    re.I,
)
PROCEDURE = re.compile(r"^1[.)]\s")  # a numbered list of steps, quoted whole (tutor.answers.passages)
EXAMPLE_CUE = re.compile(r"\b(?:for example|for instance|e\.g\.|such as|consider|example|suppose|imagine)\b", re.I)

# Weights tuned on SciQ (benchmarks/quality.py) and the dev set (benchmarks/answers_devset.py).
LEXICAL_WEIGHT = 0.6
BIGRAM_WEIGHT = 0.08
RANK_PENALTY = 0.03
DEFINES_BONUS = 0.35
EXAMPLE_BONUS = 0.2
SUBJECT_BONUS = 0.15
NEIGHBOUR_RATIO = 0.5
SHORTLIST = 12  # sentences whose meaning is scored per answer
REPEAT_PENALTY = 0.5
NEW_TERM_BONUS = 0.03
EXERCISE_ASKED = re.compile(r"\b(?:exercises?|problems?|homework|assignments?)\b", re.I)
FOLLOW_RATIO = 0.4  # a further sentence is quoted only when it scores this close to the first
RESTATES_NEW_TERMS = 1  # a sentence adding no more content words than this to the question only restates it
FOLLOWING_SPAN = 2  # what answers a restated question follows within this many sentences
ANTECEDENT_SPAN = 3  # how far back the sentence naming what a lead refers to ("It ...") is looked for
MIN_DENSE = 0.3  # below both, nothing in the passages answers the question
MIN_LEXICAL = 0.34


@dataclass(frozen=True)
class Quote:
    text: str
    number: int  # the passage's citation number
    code: bool = False


@dataclass(frozen=True)
class QuotedAnswer:
    quotes: list[Quote]
    kind: Kind
    withheld: bool = False  # every sentence that answers would give away an open quiz question's answer

    @property
    def covered(self) -> bool:
        return bool(self.quotes)

    def deltas(self) -> list[str]:
        """The answer as text deltas, one per quote: the first is the sentence that answers."""
        if self.withheld:
            return [WITHHELD]
        if not self.quotes:
            return [NOT_FOUND]
        out = []
        for i, q in enumerate(self.quotes):
            if q.code:
                out.append(f"\n\n```\n{q.text}\n```\n[{q.number}]")
            else:
                out.append(("" if i == 0 else "\n\n" if self.quotes[i - 1].code else " ") + f"{q.text} [{q.number}]")
        return out

    def text(self) -> str:
        return "".join(self.deltas())


@dataclass(frozen=True)
class Question:
    text: str
    kind: Kind
    subjects: tuple[str, ...]  # what is asked about: one term, or the two sides of a difference
    terms: frozenset[str]  # stems of the question's content words (with the topic of a follow-up)
    bigrams: frozenset[tuple[str, str]]
    # What the sentences' meaning is compared with: the question, or with what it refers to when it names
    # nothing itself ("what does the course say about this topic?" during a quiz, "and why?").
    meaning: str = ""


def _clean_subject(text: str) -> str:
    kept = [w for w in re.findall(r"[\w'-]+", text) if w.lower() not in META]
    return " ".join(kept).strip(" '-")


def read_question(question: str, context: str = "") -> Question:
    """What kind of question it is and what it is about; `context`: the earlier question a follow-up continues."""
    asked = question.strip()
    kind: Kind = "other"
    subjects: list[str] = []
    if DIFFERENCE.search(asked) and (m := PAIR.search(asked) or VERSUS.search(asked)):
        kind, subjects = "difference", [_clean_subject(m.group("a")), _clean_subject(m.group("b"))]
    elif ERROR.search(asked) and re.search(r"\b\w+(?:Error|Exception|Warning)\b", asked):
        kind, subjects = "error", re.findall(r"\b\w+(?:Error|Exception|Warning)\b", asked)[:1]
    elif EXAMPLE.search(asked):
        kind = "example"
    elif HOW.search(asked) and not re.match(r"^\s*how\s+(?:many|much|long|far|old)\b", asked, re.I):
        kind = "how"
    elif (m := DEFINITION.match(asked)) and len(_clean_subject(next(g for g in m.groups() if g)).split()) <= 4:
        kind, subjects = "definition", [_clean_subject(next(g for g in m.groups() if g))]
    elif EXPLAIN.search(asked):
        kind = "explain"
    elif ERROR.search(asked):
        kind = "error"
    subjects = [s for s in subjects if s]
    if kind in ("explain", "example", "how", "other") and not subjects:
        subject = _clean_subject(" ".join(words(asked)))
        if not subject and context:
            subject = _clean_subject(" ".join(words(context)))
        if subject and len(subject.split()) <= 3:
            subjects = [subject]
    tokens = [w for w in words(asked) if w not in META] or words(asked)
    meaning = asked
    if context and (kind == "example" or len(tokens) <= 3):
        # Meaning comes from what it refers to only when it names nothing itself ("this topic", not "insertions").
        if not [w for w in tokens if w not in REFERRING]:
            meaning = context
        tokens += [w for w in words(context) if w not in META]
    if kind == "example":  # the example of what, not the word "example"
        meaning = " ".join(sorted({stem(w) for w in tokens}))
    return Question(
        asked,
        kind,
        tuple(subjects),
        frozenset(stem(w) for w in tokens),
        frozenset(itertools.pairwise(tokens)),
        meaning,
    )


@lru_cache(maxsize=512)
def _subject_pattern(subject: str) -> re.Pattern[str]:
    parts = [re.escape(stem(w.lower())) + r"\w*" for w in subject.split()]
    return re.compile(r"\b" + r"[\s-]+".join(parts) + r"\b", re.I)


@lru_cache(maxsize=512)
def _defining(subject: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    term = _subject_pattern(subject).pattern
    return (
        re.compile(
            rf"^(?:[\w\s]{{0,30}},\s+)?(?:\W*(?:an?|the)\s+)?(?:\w+\s+){{0,2}}{term}[^.;]{{0,40}}?\s+{DEFINES_AFTER}",
            re.I,
        ),
        re.compile(rf"{DEFINES_BEFORE}(?:an?\s+|the\s+)?[\"\u201c\u2018']?{term}", re.I),
    )


def defines(sentence: str, subject: str) -> bool:
    """The sentence defines or introduces `subject` ("Recursion is ...", "... is called recursion")."""
    opening, naming = _defining(subject)
    return bool(opening.search(sentence[:160]) or naming.search(sentence))


@dataclass
class _Candidate:
    sentence: Sentence
    number: int
    rank: int
    dense: float
    lexical: float
    score: float = 0.0
    exercise: bool = False  # from a topic of exercises


BLANK = "____"


def _hidden(withhold: Sequence[str]) -> list[re.Pattern[str]]:
    return [re.compile(rf"\b{re.escape(w.strip())}\b", re.I) for w in withhold if w.strip()]


def blank_out(text: str, withhold: Sequence[str]) -> str:
    """`text` with every withheld phrase blanked out (a citation's snippet during a quiz, say)."""
    for pattern in _hidden(withhold):
        text = pattern.sub(BLANK, text)
    return text


def _masked(candidate: _Candidate, hidden: Sequence[re.Pattern[str]]) -> _Candidate | None:
    """The candidate with the withheld text blanked out; None when too little of it is left to say anything."""
    text = candidate.sentence.text
    for pattern in hidden:
        text = pattern.sub(BLANK, text)
    if text == candidate.sentence.text:
        return candidate
    if len(words(text.replace(BLANK, " "))) < 2 or candidate.sentence.kind == "code":
        return None
    return replace(candidate, sentence=replace(candidate.sentence, text=text))


def _at(c: _Candidate, candidates: Sequence[_Candidate], step: int) -> _Candidate | None:
    """The prose sentence `step` sentences from `c` in its passage."""
    return next(
        (
            n
            for n in candidates
            if n.number == c.number and n.sentence.position == c.sentence.position + step and n.sentence.kind == "prose"
        ),
        None,
    )


def _antecedent(c: _Candidate, candidates: Sequence[_Candidate]) -> _Candidate | None:
    """The sentence that names what `c` refers to ("It", "This", ...): back through a run of sentences that refer
    back too ("The cell membrane is like the bag ... It encloses ... It forms a barrier ..."), as far as
    ANTECEDENT_SPAN; when none names it there, the sentence just before."""
    for step in range(1, ANTECEDENT_SPAN + 1):
        n = _at(c, candidates, -step)
        if n is None:
            break
        if ANAPHOR.match(n.sentence.text) is None:
            return n
    return _at(c, candidates, -1)


def _asks(c: _Candidate) -> bool:
    """The sentence is a question the course asks ("Can you guess what it is?")."""
    return c.sentence.text.endswith("?")


def _restates(c: _Candidate, asked: Question) -> bool:
    """The sentence only restates the question (it adds at most one word of its own) or asks it: what answers is
    what the course says next ("The fastest land animal is a predatory mammal. Can you guess what it is? ...")."""
    return _asks(c) or len(c.sentence.stems - asked.terms) <= RESTATES_NEW_TERMS


def _following(c: _Candidate, candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """The prose sentences that follow `c` in its passage, nearest first (the course's questions left out)."""
    after = [
        n
        for n in candidates
        if n.number == c.number
        and 0 < n.sentence.position - c.sentence.position <= FOLLOWING_SPAN
        and n.sentence.kind == "prose"
        and not _asks(n)
    ]
    return sorted(after, key=lambda n: n.sentence.position)


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


class SentenceVectors:
    """Sentence vectors, each computed once and kept (least recently used out): courses repeat their sentences
    turn after turn, and embedding is the one costly step of a quoted answer."""

    def __init__(self, embedder: Embedder, capacity: int = 20000) -> None:
        self.embedder = embedder
        self.capacity = capacity
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def sentences(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; the texts not seen before are embedded in one batch."""
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        with self._lock:
            new = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if new:
            self.add(dict(zip(new, np.asarray(self.embedder.embed_documents(new), dtype=np.float32), strict=True)))
        with self._lock:
            for t in texts:
                if t in self._vectors:
                    self._vectors.move_to_end(t)
            found = [self._vectors.get(t) for t in texts]
        if any(v is None for v in found):  # evicted meanwhile by another thread: embed again
            return np.asarray(self.embedder.embed_documents(list(texts)), dtype=np.float32)
        return np.stack([v for v in found if v is not None])

    def add(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Vectors computed elsewhere (another process, the worker: `tutor.answers.sentence_store`)."""
        with self._lock:
            self._vectors.update(vectors)
            while len(self._vectors) > self.capacity:
                self._vectors.popitem(last=False)

    def missing(self, texts: Iterable[str]) -> list[str]:
        """The texts (once each) that have no vector here."""
        with self._lock:
            return [t for t in dict.fromkeys(texts) if t not in self._vectors]

    def known(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        with self._lock:
            return {t: self._vectors[t] for t in texts if t in self._vectors}

    def passage(self, text: str) -> np.ndarray:
        return self.sentences([s.text for s in split_passage(text)])

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            if text in self._queries:
                return self._queries[text]
        vector = np.asarray(self.embedder.embed_query(text), dtype=np.float32)
        with self._lock:
            self._queries[text] = vector
            while len(self._queries) > 256:
                self._queries.popitem(last=False)
        return vector


class QuotingTutor:
    def __init__(self, embedder: Embedder | None = None) -> None:
        self.vectors = SentenceVectors(embedder) if embedder is not None else None

    @property
    def embeds(self) -> bool:
        return self.vectors is not None

    def answer(
        self, question: str, passages: Sequence[Passage], context: str = "", withhold: Sequence[str] = ()
    ) -> QuotedAnswer:
        """`context`: what a follow-up refers to; `withhold`: text no quoted sentence may contain (it is blanked
        out: "A frameshift mutation is a ____." still tells a student in a quiz what the course says about it)."""
        asked = read_question(question, context)
        hidden = _hidden(withhold)
        found = self._candidates(asked, passages)
        if not found or not asked.terms:
            return QuotedAnswer([], asked.kind)
        self._score(asked, found)
        if not EXERCISE_ASKED.search(asked.text):
            # A student asking what, how or why wants the course's explanation, not a homework prompt about it.
            explained = [c for c in found if not c.exercise]
            if any(c.lexical >= MIN_LEXICAL or c.dense >= MIN_DENSE for c in explained):
                found = explained
        best = max(found, key=lambda c: c.score)
        candidates = [kept for c in found if (kept := _masked(c, hidden)) is not None]
        if candidates and len(candidates) < len(found):
            best = max(candidates, key=lambda c: c.score)
        if not candidates or (best.lexical < MIN_LEXICAL and best.dense < MIN_DENSE):
            # Nothing left that answers but the open quiz question's answer: asking it aside is asking the quiz.
            return QuotedAnswer([], asked.kind, withheld=len(candidates) < len(found))
        return QuotedAnswer(self._choose(asked, candidates), asked.kind)

    def _candidates(self, asked: Question, passages: Sequence[Passage]) -> list[_Candidate]:
        out: list[_Candidate] = []
        seen: dict[str, int] = {}  # a sentence's key -> its candidate
        for rank, passage in enumerate(passages):
            for sentence in split_passage(passage.text):
                if sentence.key in seen:
                    # A sentence that opens a chunk is often there as the overlap with the chunk before: it is
                    # quoted from (and cited to) a chunk that has what leads up to it, at its best passage's rank.
                    kept = out[seen[sentence.key]]
                    if kept.sentence.position == 0 < sentence.position:
                        out[seen[sentence.key]] = replace(kept, sentence=sentence, number=passage.number)
                    continue
                if any(sentence.key in k or k in sentence.key for k in seen):
                    continue  # overlapping chunks repeat sentences, sometimes cut short
                seen[sentence.key] = len(out)
                exercise = bool(EXERCISES.match(passage.topic))
                out.append(_Candidate(sentence, passage.number, rank, 0.0, 0.0, exercise=exercise))
        # Rarity among the candidates: a term every sentence shares says little about which one answers.
        n = len(out)
        idf = {t: math.log(1 + n / (1 + sum(t in c.sentence.stems for c in out))) for t in asked.terms}
        total = sum(idf.values()) or 1.0
        for c in out:
            c.lexical = sum(idf[t] for t in asked.terms & c.sentence.stems) / total
        if self.vectors is not None and out:
            # Meaning is scored for a shortlist by words and rank: embedding every sentence of five new chunks
            # would cost a turn hundreds of milliseconds on a busy CPU; the rest keep the shortlist's floor.
            query = self.vectors.query(asked.meaning or asked.text)
            shortlist = sorted(out, key=lambda c: -(LEXICAL_WEIGHT * c.lexical - RANK_PENALTY * c.rank))[:SHORTLIST]
            if asked.kind == "how":  # numbered steps answer "how" whatever their words: always scored (rare)
                shortlist += [c for c in out if PROCEDURE.match(c.sentence.text) and c not in shortlist]
            dense = self.vectors.sentences([c.sentence.text for c in shortlist]) @ query
            for c, similarity in zip(shortlist, dense, strict=True):
                c.dense = float(similarity)
            floor = float(dense.min()) - 0.05
            for c in out:
                if c not in shortlist:
                    c.dense = floor
        return out

    def _score(self, asked: Question, candidates: list[_Candidate]) -> None:
        patterns = [_subject_pattern(s) for s in asked.subjects]
        for c in candidates:
            s = c.sentence
            score = c.dense + LEXICAL_WEIGHT * c.lexical + BIGRAM_WEIGHT * min(2, len(asked.bigrams & s.bigrams))
            score -= RANK_PENALTY * c.rank + 0.002 * s.position
            mentions = [bool(p.search(s.text)) for p in patterns]
            if any(mentions):
                score += SUBJECT_BONUS
            if asked.kind in ("definition", "explain", "other") and any(
                defines(s.text, subject) for subject in asked.subjects
            ):
                score += DEFINES_BONUS
            if asked.kind == "how" and PROCEDURE.match(s.text):
                score += DEFINES_BONUS  # the numbered steps are to "how" what the definition is to "what is"
            elif asked.kind in ("how", "example"):
                if s.kind == "code" or EXAMPLE_CUE.search(s.text) or (asked.kind == "how" and STEP.match(s.text)):
                    score += EXAMPLE_BONUS
            elif s.kind == "code":
                score -= 0.2
            c.score = score

    def _choose(self, asked: Question, candidates: list[_Candidate]) -> list[Quote]:
        ranked = sorted(candidates, key=lambda c: (-c.score, c.rank, c.sentence.position))
        lead = ranked[0]
        if asked.kind == "how" and lead.sentence.kind == "code":
            # A "how" answer says what to do, then shows the code: the best prose leads when it is close.
            prose = next((c for c in ranked if c.sentence.kind == "prose"), None)
            if prose is not None and prose.score >= FOLLOW_RATIO * lead.score:
                lead = prose
        picked = [lead]
        if asked.kind == "difference" and len(asked.subjects) == 2:
            # Both sides: the best sentence about the side the lead does not cover.
            for subject in asked.subjects:
                pattern = _subject_pattern(subject)
                if any(pattern.search(c.sentence.text) for c in picked):
                    continue
                side = next((c for c in ranked if pattern.search(c.sentence.text)), None)
                if side is not None and side not in picked:
                    picked.append(side)
        if asked.kind in ("how", "example") and lead.sentence.kind != "code":
            # The lead's own passage's code, else (asked how) the best code about what was asked.
            code = next((c for c in ranked if c.sentence.kind == "code" and c.number == lead.number), None)
            if code is None and asked.kind == "how":
                code = next(
                    (
                        c
                        for c in ranked
                        if c.sentence.kind == "code" and c.lexical > 0 and c.score >= FOLLOW_RATIO * lead.score
                    ),
                    None,
                )
            if code is not None:
                picked.append(code)
        # The sentence the lead continues ("This type of movement ...") or the one that continues it.
        before = ANAPHOR.match(lead.sentence.text) is not None
        neighbour = _antecedent(lead, candidates) if before else _at(lead, candidates, 1)
        # A lead with its answer blanked out (a quiz is open) says little alone: the sentence after it goes too.
        blanked = BLANK in lead.sentence.text
        if (
            neighbour is not None
            and neighbour not in picked
            and len(picked) < MAX_SENTENCES
            and (before or blanked or neighbour.score >= NEIGHBOUR_RATIO * lead.score)
        ):
            picked.append(neighbour)
        # A lead that restates the question names what is asked, not the answer: what the course says next goes
        # too, as written ("A substance naturally moves from an area of higher to lower concentration. This is
        # known as moving down the concentration gradient. The process is called diffusion."). A lead that
        # continues an earlier sentence has its answer there, quoted already.
        if not before and _restates(lead, asked):
            for after in _following(lead, candidates):
                if after not in picked and len(picked) < MAX_SENTENCES:
                    picked.append(after)
        while len(picked) < MAX_SENTENCES:
            # Each further sentence must add something: near-repeats of what is quoted count for less, and
            # terms the question and the quotes do not have yet (what the student does not know) for more.
            known = asked.terms.union(*(c.sentence.stems for c in picked))
            best, best_value = None, FOLLOW_RATIO * lead.score
            for c in ranked[1:]:
                if c in picked or c.sentence.kind == "code" or _asks(c):
                    continue  # a question the course asks answers nothing unless what follows it is quoted too
                # What two sentences share of the question is their topic, not a repeat: a repeat says the same
                # new things ("The youngest seafloor is at the ridge" repeats nothing of "Orange areas show the
                # youngest seafloor").
                said = c.sentence.stems - asked.terms
                repeat = max(_overlap(said, p.sentence.stems - asked.terms) for p in picked)
                value = c.score - REPEAT_PENALTY * repeat + NEW_TERM_BONUS * min(3, len(c.sentence.stems - known))
                if value > best_value:
                    best, best_value = c, value
            if best is None:
                break
            picked.append(best)
        lead_first = [picked[0], *sorted(picked[1:], key=lambda c: (c.rank, c.sentence.position))]
        return [Quote(c.sentence.text, c.number, c.sentence.kind == "code") for c in lead_first]
