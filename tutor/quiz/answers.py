"""What a student meant by a reply during a quiz: a choice, skip, stop, resume, or a question back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tutor.textutil import tokens

Intent = Literal["answer", "skip", "stop", "resume", "question", "unclear"]
LETTERS = ("A", "B", "C", "D")

ORDINALS = {
    "first": "A",
    "1st": "A",
    "one": "A",
    "1": "A",
    "second": "B",
    "2nd": "B",
    "two": "B",
    "2": "B",
    "third": "C",
    "3rd": "C",
    "three": "C",
    "3": "C",
    "fourth": "D",
    "4th": "D",
    "four": "D",
    "4": "D",
    "last": "D",
}
SKIP = re.compile(r"^\s*(skip|next|pass|i\s*(don'?t|do not)\s*know|no idea|dunno|idk)\b", re.I)
STOP = re.compile(r"^\s*(stop|quit|end|cancel|exit|finish)(\s+(the\s+)?(quiz|test|it))?\s*[.!]*\s*$", re.I)
RESUME = re.compile(r"^\s*(resume|continue|back to the (quiz|test)|let'?s continue|carry on)\b", re.I)
LETTER = re.compile(
    r"^\s*(?:(?:my\s+)?(?:final\s+)?(?:answer|option|choice)\s*(?:is|:)?\s*|i\s+(?:think|guess|choose|pick|say)\s+"
    r"(?:it'?s\s+|its\s+|it\s+is\s+)?|it'?s\s+|its\s+|it\s+is\s+)?\(?([a-d])\)?(?:[.)!:]|\s*$|\s+(?:because|since)\b)",
    re.I,
)
QUESTION_START = re.compile(r"^\s*(what|why|how|who|when|where|which|can|could|does|do|is|are|explain|tell me)\b", re.I)
FILLER = {"the", "a", "an", "of", "to", "in", "and", "or", "it", "is", "its"}


@dataclass(frozen=True)
class Reading:
    intent: Intent
    letter: str | None = None


def _words(text: str) -> list[str]:
    return tokens(text)


def read_reply(reply: str, options: dict[str, str]) -> Reading:
    """Interpret a free-text reply to a multiple-choice question with options A-D."""
    text = reply.strip()
    if not text:
        return Reading("unclear")
    if STOP.match(text):
        return Reading("stop")
    if SKIP.match(text):
        return Reading("skip")
    if RESUME.match(text):
        return Reading("resume")
    match = LETTER.match(text)
    if match:
        return Reading("answer", match.group(1).upper())
    lowered = text.lower()
    for option_letter, option_text in options.items():
        if option_text.strip() and option_text.strip().lower() == lowered.strip(" .!"):
            return Reading("answer", option_letter)
    words = _words(text)
    ordinal = [ORDINALS[w] for w in words if w in ORDINALS]
    if ordinal and len(words) <= 8 and ("one" in words or "option" in words or "answer" in words or len(words) <= 3):
        return Reading("answer", ordinal[0])
    if QUESTION_START.match(text):
        return Reading("question")
    # The text of an option said in other words ("maybe the cell wall?"): the option it covers best.
    scores = {}
    for option_letter, option_text in options.items():
        option_words = set(_words(option_text)) - FILLER
        if option_words:
            scores[option_letter] = len(option_words & set(words)) / len(option_words)
    if scores:
        best = max(scores, key=lambda k: scores[k])
        ranked = sorted(scores.values(), reverse=True)
        if ranked[0] >= 0.6 and (len(ranked) == 1 or ranked[0] > ranked[1]) and len(words) <= 12:
            return Reading("answer", best)
    if text.endswith("?"):
        return Reading("question")
    return Reading("unclear")
