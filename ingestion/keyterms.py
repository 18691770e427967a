"""Salient terms of a course's text, and the common words that never are one."""

from __future__ import annotations

import math
import re
from collections import Counter

from tutor.textutil import COMMON_WORDS, PROSE_WORD

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
# The word pattern and the common words are the tutor's one set (tutor.textutil), not a copy.
WORD = PROSE_WORD
STOPWORDS = COMMON_WORDS


def key_terms(text: str, k: int, *, background: str = "") -> list[str]:
    """Salient words of `text`: frequent content words, discounted when common in `background` too."""
    counts = Counter(w.lower() for w in WORD.findall(text) if w.lower() not in STOPWORDS and not w.isupper())
    base = Counter(w.lower() for w in WORD.findall(background)) if background else Counter()
    total_base = sum(base.values()) or 1
    scored = {
        w: n * math.log(1 + len(w)) / (1 + 50 * base[w] / total_base)
        for w, n in counts.items()
        if n >= 2 and len(w) >= 4
    }
    return [w for w, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]
