"""Offline quiz generation: questions on the course's key terms, with distractors of the same kind.

A key term is one the text defines or emphasises: "... is called Y", "Y is a ...", "Y: ...", a term set in bold
within the running text, a section heading used in the text. Two kinds of question:
- definition ("What is meant by Y?"): the options are the definitions the text gives for four of its terms;
- cloze: a sentence of the course with its key term blanked once (one blank, one term).
Distractors are other key terms of the course of similar length and form, never a common word, a piece of the
key (or the key a piece of them), a word of the question, or a synonym the text names ("Y, also called Z").
The explanation quotes the source sentence with file and page. A question whose key the text only uses often
(no definition, no emphasis), or whose distractors had to be taken from frequent words, is kept and marked
for the teacher's review rather than dropped.
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate

from ingestion.keyterms import SENTENCE_END, STOPWORDS, key_terms
from ingestion.structure import ModuleDraft
from tutor.quiz.validation import LETTERS, question_problems

BLANK = "_____"
MIN_QUESTIONS, MAX_QUESTIONS = 5, 10
POINTING_BACK = ("this", "these", "those", "such")  # "Edges satisfying this condition": the sentence before says
WORD_AT = re.compile(r"\w+")
# How the text marks a key term, strongest first: questions are asked on the best-marked terms first.
EVIDENCE = ("defined", "glossary", "emphasised", "heading", "frequent")
# Words that are never the point of a question, nor a plausible wrong answer beside a term.
GENERIC = frozenset(
    [
        "something",
        "anything",
        "today",
        "tomorrow",
        "yesterday",
        "everything",
        "nothing",
        "thing",
        "things",
        "natural",
        "normal",
        "general",
        "certain",
        "various",
        "several",
        "important",
        "different",
        "similar",
        "common",
        "simple",
        "main",
        "major",
        "basic",
        "specific",
        "particular",
        "whole",
        "same",
        "other",
        "new",
        "large",
        "small",
        "high",
        "low",
        "good",
        "bad",
        "many",
        "much",
        "most",
        "example",
        "process",
        "way",
        "ways",
        "result",
        "results",
        "use",
        "uses",
        "amount",
        "level",
        "kind",
        "kinds",
        "type",
        "types",
        "form",
        "forms",
        "part",
        "parts",
        "area",
        "areas",
    ]
)
DANGLING = frozenset(
    [
        "this",
        "these",
        "that",
        "those",
        "it",
        "its",
        "they",
        "such",
        "consequently",
        "thus",
        "therefore",
        "so",
        "and",
        "also",
    ]
)
_TERM = r"[A-Za-z][A-Za-z-]*(?: [A-Za-z][A-Za-z-]*){0,3}"
DEFINED_AFTER = re.compile(
    rf"\b(?:is|are|was|were)\s+(?:also\s+)?(?:called|known as|termed|referred to as|named)\s+(?:an?\s+|the\s+)?({_TERM}?)"
    r"(?=\s*(?:[.,;:()]|$|\s(?:or|and|because|which|that|when|in|by|if)\b))"
)
DEFINED_BEFORE = re.compile(
    rf"^(?:An?\s+|The\s+)?({_TERM}?)\s+(?:is|are|refers to|means)\s+(?:an?|the|any|one of the)\s+(.{{12,200}}?)[.]$"
)
CONDITION = re.compile(r"\s*(?:\([^)]*\))?\s*(?:if|when|whenever|provided)\b")
# "Recall that a palindrome is a string ...": the term is "palindrome".
LEAD_IN = re.compile(r"^(?:(?:recall|note|remember|observe)\s+that\s+)?(?:an?|the)\s+(?=\S)", re.I)
GLOSSARY_ENTRY = re.compile(rf"^({_TERM}):\s+(.{{12,200}})$")
ALIAS = re.compile(rf"\b({_TERM}),\s+(?:also called|also known as|or)\s+({_TERM}),")


@dataclass(frozen=True)
class QuestionDraft:
    question_number: int
    question_text: str
    options: dict[str, str]
    correct_answer: str
    explanation: str
    difficulty: str
    source_file: str
    page: int
    topic_title: str
    needs_review: bool = False  # low confidence: shown to the teacher for review, not dropped


@dataclass(frozen=True)
class Sentence:
    text: str
    page: int
    source: str
    topic: str
    week: int


@dataclass(frozen=True)
class KeyTerm:
    term: str
    how: str  # one of EVIDENCE
    sentence: Sentence
    definition: str = ""  # what the text says the term is, when it says it

    @property
    def confident(self) -> bool:
        return self.how != "frequent"


def sentences(module: ModuleDraft) -> list[Sentence]:
    out = []
    for topic in module.topics:
        for paragraph in topic.paragraphs:
            if paragraph.kind != "text":
                continue  # code and tables are not prose to blank words in
            for sentence in SENTENCE_END.split(paragraph.text):
                sentence = sentence.strip()
                words = len(sentence.split())
                if (
                    6 <= words <= 45
                    and sentence.endswith((".", "!"))
                    and "http" not in sentence
                    and "`" not in sentence
                ):
                    out.append(Sentence(sentence, paragraph.page, topic.source_file, topic.title, module.week))
    return out


def _stands_alone(definition: str) -> bool:
    """A definition that reads as one on its own: short, not "This volume", not half of a contrast, not pointing
    back ("Edges satisfying this condition"), not a list item ("- Otherwise, ..."), an exclamation or a title
    ("A Guide to the Theory of NP-Completeness")."""
    words = definition.lower().replace(",", " ").split()
    content = [w for w in definition.split()[1:] if w.lower() not in STOPWORDS]
    title = len(content) >= 2 and all(w[:1].isupper() for w in content)
    return (
        2 <= len(words) <= 20
        and definition[:1].isalpha()
        and words[0] not in DANGLING
        and not any(w in ("whereas", "while", "but", "however", *POINTING_BACK) for w in words)
        and not definition.rstrip().endswith("!")
        and not title
    )


def _usable(term: str) -> bool:
    words = term.lower().split()
    return (
        bool(words)
        and len(term) >= 4
        and words[-1] not in STOPWORDS
        and words[0] not in STOPWORDS
        and words[0] not in GENERIC
        and not all(w in GENERIC for w in words)
        and not any(c.isdigit() for c in term)
    )


def _pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", re.I)


def glossary(modules: list[ModuleDraft]) -> tuple[list[KeyTerm], set[frozenset[str]]]:
    """The course's key terms, best evidence first, and the synonym pairs the text names."""
    found: dict[str, KeyTerm] = {}
    aliases: set[frozenset[str]] = set()

    def add(term: str, how: str, sentence: Sentence, definition: str = "") -> None:
        term = LEAD_IN.sub("", term.strip(" ,;:-"))
        if _usable(term) and term.lower() not in found:
            term = _written(term, course_text, course_words)
            found[term.lower()] = KeyTerm(term, how, sentence, definition if _stands_alone(definition) else "")

    all_sentences = [s for m in modules for s in sentences(m)]
    course_text = "\n".join(s.text for s in all_sentences)
    starts = list(accumulate((len(s.text) + 1 for s in all_sentences[:-1]), initial=0))
    course_words: dict[str, list[int]] = {}
    for word in WORD_AT.finditer(course_text):
        course_words.setdefault(word.group(0).lower(), []).append(word.start())

    def first_use(term: str, week: int) -> Sentence | None:
        """The week's first sentence using the term, looked up from where its first word stands."""
        first, pattern = WORD_AT.match(term.lower()), _pattern(term)
        if first is None:
            return next((s for s in all_sentences if s.week == week and pattern.search(s.text)), None)
        for at in course_words.get(first.group(0), []):
            sentence = all_sentences[bisect_right(starts, at) - 1]
            if sentence.week == week and pattern.search(sentence.text):
                return sentence
        return None

    # "Proof: ..." opening sentence after sentence is a run-in label; a glossary names each of its terms once.
    openers = Counter(g.group(1).lower() for s in all_sentences if (g := GLOSSARY_ENTRY.match(s.text)))
    for s in all_sentences:
        if match := DEFINED_AFTER.search(s.text):
            # "A vertex v ... is called a cut vertex if ...": what comes before is the subject, not the definition.
            conditional = CONDITION.match(s.text, match.end())
            add(match.group(1), "defined", s, "" if conditional else s.text[: match.start()].strip(" ,"))
        if match := DEFINED_BEFORE.match(s.text):
            add(match.group(1), "defined", s, match.group(2))
        glossed = GLOSSARY_ENTRY.match(s.text)
        # Not "Caveat lector: Some of these exercises ...": what follows the colon must read as a definition.
        if glossed and openers[glossed.group(1).lower()] == 1 and _stands_alone(glossed.group(2)):
            add(glossed.group(1), "glossary", s, glossed.group(2))
        for a, b in ALIAS.findall(s.text):
            aliases.add(frozenset((a.lower(), b.lower())))
    for m in modules:
        for topic in m.topics:
            for term in (t for p in topic.paragraphs for t in p.emphasis):
                if used := first_use(term, m.week):
                    add(term, "emphasised", used)
        for topic in m.topics:
            title = re.sub(r"^[\d.]+\s+|\s*\(part \d+\)$", "", topic.title).strip()
            if len(title.split()) <= 3 and (used := first_use(title, m.week)):
                add(title, "heading", used)
        text = "\n".join(s.text for s in all_sentences if s.week == m.week)
        for term in key_terms(text, 25):
            if used := first_use(term, m.week):
                add(term, "frequent", used)
    return list(found.values()), aliases


def _written(term: str, text: str, words: dict[str, list[int]]) -> str:
    """The term as the text writes it inside a sentence: "edit distance" for the heading "Edit Distance" or the
    frequent word "edit distance", "Levenshtein distance" and "Recursion Fairy" kept as names. A sentence's
    first word is capitalised by its place, so it does not count (`text` holds one sentence a line; `words` maps
    each lower-cased word to where it starts)."""
    needle = term.lower()
    first = WORD_AT.match(needle)
    seen = Counter[str]()
    for at in words.get(first.group(0), []) if first else []:
        end = at + len(needle)
        if text[at:end].lower() == needle and not text[end : end + 1].isalnum() and at and text[at - 1] != "\n":
            seen[text[at:end]] += 1
            if seen.total() == 20:  # enough uses to tell a name from a word; a common word has thousands
                break
    return seen.most_common(1)[0][0] if seen else term


def _form(term: str) -> tuple[int, bool, bool]:
    """Words, capitalised, plural: distractors look like the key, or they give it away."""
    return len(term.split()), term[:1].isupper(), term.lower().endswith("s") and not term.lower().endswith("ss")


def distractors(
    key: str, question: str, pool: list[KeyTerm], aliases: set[frozenset[str]], rng: random.Random
) -> tuple[list[str], bool]:
    """Three wrong options of the key's kind, and whether they all came from defined or emphasised terms."""
    low = key.lower()

    def acceptable(t: str) -> bool:
        other = t.lower()
        return (
            other != low
            and other not in low
            and low not in other
            and other[:5] != low[:5]
            and frozenset((low, other)) not in aliases
            and not _pattern(t).search(question)
            and _usable(t)
        )

    candidates = [k for k in pool if acceptable(k.term)]
    shape = _form(key)
    # A key inside its sentence written with a capital is a name: names go with names, words with words ("Kris"
    # beside "oblivious" gives the answer away). A key opening its sentence is capitalised by its place only.
    name = key[:1].isupper() and not question.startswith(BLANK)
    candidates.sort(
        key=lambda k: (
            not k.confident,
            _form(k.term)[0] != shape[0],
            k.term[:1].isupper() != name,
            _form(k.term)[2] != shape[2],
            abs(len(k.term) - len(key)) // 4,
            rng.random(),
        )
    )
    chosen: list[KeyTerm] = []
    for k in candidates:
        if all(k.term.lower() not in c.term.lower() and c.term.lower() not in k.term.lower() for c in chosen):
            chosen.append(k)
        if len(chosen) == 3:
            break
    confident = len(chosen) == 3 and all(k.confident and _form(k.term)[0] == shape[0] for k in chosen)
    return [_cased(k.term, key) for k in chosen], confident


def _cased(term: str, like: str) -> str:
    """A distractor capitalised like a key that opens its sentence, so the capitalised option is not the giveaway.
    Otherwise as the text writes it: a name keeps its capital ("Levenshtein distance" beside "edit distance")."""
    if like[:1].isupper() and not term[:1].isupper():
        return term[:1].upper() + term[1:]
    return term


def _options(correct: str, wrong: list[str], rng: random.Random) -> tuple[dict[str, str], str]:
    letter = LETTERS[rng.randrange(4)]
    others = iter(wrong)
    return {x: correct if x == letter else next(others) for x in LETTERS}, letter


def _cite(s: Sentence) -> str:
    return f"“{s.text}” ({s.source}, p. {s.page})"


def quiz_size(module: ModuleDraft) -> int:
    """Questions in a week's quiz: five, and one for each 1,500 words beyond 7,500, at most ten (a week is a whole
    chapter, 1,000 to 20,000 words in the books we read; five questions would leave most of a long one untested)."""
    return min(MAX_QUESTIONS, max(MIN_QUESTIONS, sum(t.words for t in module.topics) // 1500))


def course_quizzes(modules: list[ModuleDraft]) -> list[list[QuestionDraft]]:
    """Each week's offline quiz, sized to the week, with distractors from the whole course's terms."""
    terms, aliases = glossary(modules)
    return [generate_module_quiz(m, terms, aliases, num_questions=quiz_size(m), seed=m.week) for m in modules]


def generate_module_quiz(
    module: ModuleDraft,
    terms: list[KeyTerm],
    aliases: set[frozenset[str]] | None = None,
    *,
    num_questions: int = 5,
    seed: int = 0,
) -> list[QuestionDraft]:
    """Up to `num_questions` questions on the week's key terms; distractors from the whole course's terms."""
    rng = random.Random(seed)
    aliases = aliases or set()
    own = [k for k in terms if k.sentence.week == module.week]
    own.sort(key=lambda k: EVIDENCE.index(k.how))
    definitions = [k for k in terms if k.definition]
    module_sentences = sentences(module)
    used: set[str] = set()
    drafts: list[QuestionDraft] = []
    for k in own:
        if len(drafts) >= num_questions:
            break
        if k.definition and len(k.definition.split()) <= 30 and len(drafts) % 2 == 0:
            question = _definition_question(k, definitions, rng)
        else:
            question = _cloze_question(k, module_sentences, terms, aliases, used, rng)
        if question is not None and not question_problems(
            question.question_text, question.options, question.correct_answer
        ):
            drafts.append(question)
            used.add(question.explanation)
    return [
        QuestionDraft(
            i,
            q.question_text,
            q.options,
            q.correct_answer,
            q.explanation,
            q.difficulty,
            q.source_file,
            q.page,
            q.topic_title,
            q.needs_review,
        )
        for i, q in enumerate(drafts, 1)
    ]


def _definition_question(key: KeyTerm, definitions: list[KeyTerm], rng: random.Random) -> QuestionDraft | None:
    low = key.term.lower()
    others = [
        k
        for k in definitions
        if k.term.lower() not in low and low not in k.term.lower() and k.definition.lower() != key.definition.lower()
    ]
    others = [
        k for k in others if not _pattern(key.term).search(k.definition) and not _pattern(k.term).search(key.definition)
    ]
    if len(others) < 3:
        return None
    target = len(key.definition)
    others.sort(key=lambda k: (abs(len(k.definition) - target) // 20, rng.random()))
    wrong = [_sentence_case(k.definition) for k in others[:3]]
    options, letter = _options(_sentence_case(key.definition), wrong, rng)
    s = key.sentence
    return QuestionDraft(
        0, f"What is meant by {key.term}?", options, letter, _cite(s), "medium", s.source, s.page, s.topic
    )


def _sentence_case(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:]


def _cloze_question(
    key: KeyTerm,
    module_sentences: list[Sentence],
    pool: list[KeyTerm],
    aliases: set[frozenset[str]],
    used: set[str],
    rng: random.Random,
) -> QuestionDraft | None:
    pattern = _pattern(key.term)
    # The defining sentence first, then any other that uses the term exactly once, after its opening words; a
    # sentence that leans on the one before it ("Edges satisfying this condition are called _____.") only when no
    # other will do, and then marked for review: out of its paragraph it has more than one answer.
    ordered = sorted(
        [key.sentence, *(s for s in module_sentences if s != key.sentence)], key=lambda s: not _self_contained(s.text)
    )
    for s in ordered:
        matches = list(pattern.finditer(s.text))
        if len(matches) != 1 or _cite(s) in used:
            continue
        question = s.text[: matches[0].start()] + BLANK + s.text[matches[0].end() :]
        if len(question.split()) < 6 or question.startswith(f"{BLANK}:"):
            continue  # too short to be a question, or a label to name ("_____: Merge the two ...")
        correct = matches[0].group(0)
        wrong, confident = distractors(correct, question, pool, aliases, rng)
        if len(wrong) < 3:
            return None
        options, letter = _options(correct, wrong, rng)
        uses = sum(len(pattern.findall(x.text)) for x in module_sentences)
        difficulty = "easy" if uses >= 4 else ("medium" if uses >= 2 else "hard")
        return QuestionDraft(
            0,
            f"Fill in the blank: {question}",
            options,
            letter,
            _cite(s),
            difficulty,
            s.source,
            s.page,
            s.topic,
            needs_review=not (key.confident and confident and _self_contained(s.text)),
        )
    return None


def _self_contained(sentence: str) -> bool:
    """Whether a sentence can be read out of its paragraph: it points back at nothing ("this condition", "such a
    tree", "Otherwise, ...") and is not a list item."""
    words = WORD_AT.findall(sentence.lower())
    return (
        bool(words)
        and sentence[:1].isalnum()
        and words[0] not in ("otherwise", "then", "similarly", "conversely")
        and not any(w in POINTING_BACK for w in words)
    )
