"""Words of a text for lexical matching: lower-cased content words and their crude stems."""

from __future__ import annotations

import re

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
        "called",
        "known",
        "most",
        "many",
        "much",
    ]
)
SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "es", "s", "ed", "ly")


def words(text: str) -> list[str]:
    """Content words in order (bigrams need the order)."""
    return [w for w in WORD.findall(text.lower()) if w not in STOP and len(w) > 1]


def stem(word: str) -> str:
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> set[str]:
    return {stem(w) for w in words(text)}
