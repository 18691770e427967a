"""A passage's quotable sentences: prose split into sentences, code kept as blocks, headings and labels left out.

Chunks come from PDFs: they carry headings, figure labels, running heads and page numbers as lines of their own,
words hyphenated across lines, and (from the chunker's overlap) a first or last sentence cut in two. Only whole
sentences of prose, and code, are worth quoting.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from tutor.textutil import stem, words

SENTENCE = re.compile(
    r"(?<=[.!?])[\"\u201d\u2019)]?\s+(?=[A-Z0-9\u201c\"(\u2018'])|(?<=[a-z]{3}[.!?])\s+(?=[a-z]{2,}\s)"
)
ENDS_SENTENCE = re.compile(r"[.!?:][\"\u201d\u2019)]?$")
HYPHENATED = re.compile(r"(\w)-\s*\n\s*(\w)")
# Labels and running heads: "Figure 3.2", "Table 1", "Chapter 4", "Exercises", "1.2 Compounds", a page number.
LABEL = re.compile(
    r"^(?:figure|fig\.|table|chapter|section|part|lecture|week|exercise|example|algorithm|definition|theorem|"
    r"lemma)\s*[\dIVX]+(?:\.\d+)*[:.]?(?:\s|$)|^(?:exercises|summary|references|contents|proof)\s*[:.]?$",
    re.I,
)
# Lines of code or pseudocode: calls, keywords of code, assignments, prompts, braces.
CODE = re.compile(
    r"^\s*(?:>>>|\.\.\.\s|def\s|class\s|import\s|from\s\S+\simport|print\(|#\s"
    r"|(?:if|else|elif|while|for|return|repeat|until|do|then|end)\b(?!\s+(?:we|you|the|it|this|they|a)\b)"
    r"|[A-Za-z_][\w.]*\([^()]*\)\s*[:{]?\s*$|[A-Za-z_][\w.]*\(.*\)\s+(?:hh|//|#)"
    r"|[A-Za-z_][\w.\[\]]*\s*(?:=|\+=|-=|←|<-|:=)\s*\S|[{}]\s*$)"
)
NUMBERED = re.compile(r"^\d+(?:\.\d+)+\s+(?=[A-Z])")
# A footnote mark after a sentence's end ("... by Arthur Samuel.^5"): the sentence ends before it.
FOOTNOTE = re.compile(r"(?<=[.!?,;:\"\u201d\u2019)])\^\d{1,3}(?=\s|$)")
# A code listing as the chunker keeps it: a fenced block, indentation and blank lines included.
FENCED = re.compile(r"^```[^\n]*\n(.*?)\n?^```[ \t]*$", re.M | re.S)
# A numbered list of steps in running text: "1. Divide ... 2. Recursively ...", at the start or after a colon.
STEPS = re.compile(r"(?:^|(?<=[:.]\s))1[.)]\s+[A-Z][^\n]*?\s2[.)]\s+[A-Z]")
MAX_STEPS_WORDS = 90
MIN_TOKENS = 3  # "Roundworms reproduce sexually." is a sentence worth quoting
MIN_WORDS = 2  # content words


def _sentence_like(text: str) -> bool:
    return len(re.findall(r"\w+", text)) >= MIN_TOKENS and len(words(text)) >= MIN_WORDS


def _caption(text: str) -> bool:
    """A caption's text is a sentence: capitalised, and not a title with every word capitalised."""
    tokens = re.findall(r"[A-Za-z]+", text)
    lower = sum(w[0].islower() for w in tokens if len(w) > 3)
    return _sentence_like(text) and text[0].isupper() and lower >= 2


@dataclass(frozen=True)
class Sentence:
    position: int  # order in its passage
    text: str
    kind: Literal["prose", "code"]
    stems: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    key: str  # the same sentence from two overlapping chunks has the same key


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(CODE.match(stripped)) and not (len(stripped.split()) > 12 and ENDS_SENTENCE.search(stripped))


def _analysed(position: int, text: str, kind: Literal["prose", "code"]) -> Sentence:
    tokens = words(text)
    key = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
    return Sentence(
        position, text, kind, frozenset(stem(w) for w in tokens), frozenset(itertools.pairwise(tokens)), key
    )


def _prose_sentences(block: str, *, own_paragraph: bool = False) -> list[str]:
    """`own_paragraph`: the block is known to open a paragraph, so a first sentence in lower case is whole (a
    glossary-style fragment: "critical density, the density needed to just halt universal expansion.")."""
    steps = STEPS.search(block)
    if steps and len(block[steps.start() :].split()) <= MAX_STEPS_WORDS and ENDS_SENTENCE.search(block):
        # A numbered procedure ("1. Divide ... 2. Recursively sort ... 3. Merge ...") is quoted whole: its
        # steps cut apart answer "how" with one step out of context.
        head = _prose_sentences(block[: steps.start()], own_paragraph=own_paragraph)
        return [*head, block[steps.start() :].strip()]
    out = []
    for n, piece in enumerate(SENTENCE.split(block)):
        # A section number glued to its first sentence ("33.2 Cnidarians are ...") is not part of it.
        piece = NUMBERED.sub("", " ".join(piece.split()))
        if not _sentence_like(piece) or not ENDS_SENTENCE.search(piece):
            continue
        if (label := LABEL.match(piece)) and _caption(piece[label.end() :].lstrip()):
            # A caption ("Figure 6.12 Entropy is a measure of disorder.") says what the course says: its label
            # does not. A label alone, or a title ("Table 13.4 Some Drugs That Contain a Benzene Ring."), is no
            # sentence.
            piece = piece[label.end() :].lstrip()
        if (piece[0].islower() and not (n == 0 and own_paragraph)) or LABEL.match(piece):
            continue  # the tail of a sentence cut by the chunker or by code, or a label ("Figure 2.1 ...")
        letters = sum(c.isalpha() for c in piece)
        if letters < 0.6 * len(piece):  # formulas and tables flattened into text
            continue
        out.append(piece)
    return out


@lru_cache(maxsize=4096)
def split_passage(text: str) -> tuple[Sentence, ...]:
    """The passage's quotable units in order, analysed once: the same chunks come back turn after turn.

    A fenced block is code as written. PDF paragraphs arrive as blocks; code that was not recognised as such
    at ingestion arrives as a run of short blocks, one line each. A run of short blocks with two lines of code
    or more is code; other short, unpunctuated blocks are headings and labels.
    """
    text = text.replace("\r", "")
    units: list[tuple[str, Literal["prose", "code"]]] = []
    at = 0
    for fence in FENCED.finditer(text):
        units += _units(text[at : fence.start()])
        if fence.group(1).strip():
            units.append((fence.group(1).strip("\n"), "code"))
        at = fence.end()
    units += _units(text[at:])
    return tuple(_analysed(n, t, k) for n, (t, k) in enumerate(units))


def _units(text: str) -> list[tuple[str, Literal["prose", "code"]]]:
    text = FOOTNOTE.sub("", HYPHENATED.sub(r"\1\2", text))
    blocks = _rejoined([" ".join(b.split()) if not _is_code(b) else b.strip() for b in re.split(r"\n\s*\n", text)])
    units: list[tuple[str, Literal["prose", "code"]]] = []
    i = 0
    while i < len(blocks):
        if not _short(blocks[i]):
            # Ingestion joins a paragraph that a page break cut in two (ingestion.pdf_sections), and chunks start at a
            # paragraph's or a sentence's start: a block opens a paragraph unless code or a line comes before it.
            opens = i == 0 or (not _short(blocks[i - 1]) and bool(ENDS_SENTENCE.search(blocks[i - 1])))
            units.extend((s, "prose") for s in _prose_sentences(blocks[i], own_paragraph=opens))
            i += 1
            continue
        run = [blocks[i]]
        while i + len(run) < len(blocks) and _short(blocks[i + len(run)]):
            run.append(blocks[i + len(run)])
        if sum(_is_code(line) for line in run) >= 2:
            units.append(("\n".join(run), "code"))
        i += len(run)
    return units


def _rejoined(blocks: list[str]) -> list[str]:
    """The blocks, a paragraph that a page break cut in two made one again: a block of prose that ends in the middle
    of a sentence, then one that carries on in lower case ("... move around the positive" / "nucleus at the
    center.")."""
    out: list[str] = []
    for b in blocks:
        if not b:
            continue
        if (
            out
            and b[0].islower()
            and not ENDS_SENTENCE.search(out[-1])
            and not _is_code(out[-1])
            and not _is_code(b)
            and len(out[-1].split()) > 3  # a sentence's beginning, not a heading or a label
        ):
            out[-1] = f"{out[-1]} {b}"
        else:
            out.append(b)
    return out


def _short(block: str) -> bool:
    """A line that names something (a heading, a label, a running head) or is code, rather than prose."""
    flat = " ".join(block.split())
    if len(flat.split()) > 25:
        return False
    ends = re.search(r"[.!?]", flat) or ENDS_SENTENCE.search(flat)
    return _is_code(block) or not ends or not _sentence_like(flat)
