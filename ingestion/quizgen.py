"""Offline quiz generation: cloze questions on a module's key terms, distractors from the course's other terms.

Every question is a sentence of the course with one key term blanked, so it is answerable from the course
and its key is right by construction; the explanation quotes the sentence and cites file and page.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from ingestion.keyterms import SENTENCE_END, key_terms
from ingestion.structure import ModuleDraft
from tutor.quiz.validation import LETTERS, question_problems

BLANK = "_____"


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


@dataclass(frozen=True)
class _Sentence:
    text: str
    page: int
    source: str
    topic: str


def _sentences(module: ModuleDraft) -> list[_Sentence]:
    out = []
    for topic in module.topics:
        for paragraph in topic.paragraphs:
            for sentence in SENTENCE_END.split(paragraph.text):
                words = len(sentence.split())
                if 8 <= words <= 45 and sentence.rstrip().endswith((".", "!")) and "http" not in sentence:
                    out.append(_Sentence(sentence.strip(), paragraph.page, topic.source_file, topic.title))
    return out


def _term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(term)}\b", re.I)


def validate_question(q: QuestionDraft) -> list[str]:
    return question_problems(q.question_text, q.options, q.correct_answer)


def generate_module_quiz(
    module: ModuleDraft, course_terms: list[str], *, num_questions: int = 5, seed: int = 0
) -> list[QuestionDraft]:
    rng = random.Random(seed)
    sentences = _sentences(module)
    text = module.text
    terms = key_terms(text, 25)
    pool = list(dict.fromkeys([*course_terms, *terms]))
    lowered = text.lower()
    questions: list[QuestionDraft] = []
    used_sentences: set[str] = set()
    for term in terms:
        if len(questions) >= num_questions:
            break
        pattern = _term_pattern(term)
        # The first sentence that uses the term after its opening words: it defines or explains it.
        sentence = next(
            (s for s in sentences if s.text not in used_sentences and (m := pattern.search(s.text)) and m.start() > 0),
            None,
        )
        if sentence is None:
            continue
        distractors = [
            t
            for t in pool
            if t != term
            and not _term_pattern(t).search(sentence.text)
            and not t.startswith(term[:4])
            and not term.startswith(t[:4])
        ]
        if len(distractors) < 3:
            continue
        # Distractors of similar length read as plausible; a little randomness keeps them from repeating.
        distractors.sort(key=lambda t: (abs(len(t) - len(term)), rng.random()))
        # One option per word family: "ventricle" and "ventricles" side by side give the game away.
        distinct = list({t[:5]: t for t in reversed(distractors[:12])}.values())[::-1]
        if len(distinct) < 3:
            continue
        chosen = rng.sample(distinct[:8], 3)
        letters = list(LETTERS)
        correct = letters[rng.randrange(4)]
        options: dict[str, str] = {}
        others = iter(chosen)
        for letter in letters:
            options[letter] = term if letter == correct else next(others)
        count = len(re.findall(rf"\b{re.escape(term)}\b", lowered))
        difficulty = "easy" if count >= 4 else ("medium" if count >= 2 else "hard")
        question = QuestionDraft(
            question_number=len(questions) + 1,
            question_text=f"Fill in the blank: {pattern.sub(BLANK, sentence.text)}",
            options=options,
            correct_answer=correct,
            explanation=f"“{sentence.text}” ({sentence.source}, p. {sentence.page})",
            difficulty=difficulty,
            source_file=sentence.source,
            page=sentence.page,
            topic_title=sentence.topic,
        )
        if not validate_question(question):
            questions.append(question)
            used_sentences.add(sentence.text)
    return questions
