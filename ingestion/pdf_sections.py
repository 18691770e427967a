"""Headings (from the outline, or from font sizes) and the sections they open, with their paragraphs: Markdown for code,
a paragraph that a page or column break cut in two made one again, words broken at a line's end made whole."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import replace

from ingestion import pseudocode
from ingestion.pdf_spans import ENDS_SENTENCE, FOOTNOTE_MARK
from ingestion.pdf_types import Block, Paragraph, Section, joined_confidence

# How many paragraphs back a lower-case paragraph may carry on a cut sentence (footnotes, formulas between).
CARRY_BACK = 3
NUMBERING = re.compile(r"^\s*(chapter\s+|part\s+|section\s+)?((\d+|[ivxlc]+)(\.\d+)*\.?)\s+", re.I)


Heading = tuple[int, str]  # (level, title)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", NUMBERING.sub("", text.lower()))


def outline_headings(pages: list[list[Block]], toc: list[tuple[int, str, int]]) -> dict[tuple[int, int], Heading]:
    """Bookmarks located on their pages: the block whose text is the title (else the page's start)."""
    found: dict[tuple[int, int], Heading] = {}
    for level, title, page in toc:
        if page > len(pages):
            continue
        key = _norm(title)
        index = next((i for i, b in enumerate(pages[page - 1]) if key and _norm(b.text) == key), None)
        if index is None:
            index = next((i for i, b in enumerate(pages[page - 1]) if key and _norm(b.text).startswith(key)), -1)
        found[(page, index)] = (level, title)
    return found


def font_headings(pages: list[list[Block]], body: float) -> dict[tuple[int, int], Heading]:
    """Headings by size: short blocks set larger than the body (or bold and numbered), ranked into levels."""
    candidates: list[tuple[int, int, float, str]] = []
    for p, blocks in enumerate(pages, 1):
        for i, b in enumerate(blocks):
            if b.kind != "text":
                continue
            title = NUMBERING.sub("", b.text.lstrip(" .")).strip(" .:-")
            if not title or len(b.text) > 120 or not re.search(r"[A-Za-z]{3}", title) or title.endswith((".", ",")):
                continue
            if unicodedata.category(title[0]) == "Sm":
                continue  # a displayed formula set large ("= ((())()()) and y = ..."), not a heading
            if b.size >= body * 1.15 or (b.bold and b.size >= body and NUMBERING.match(b.text)):
                candidates.append((p, i, b.size, title))
    levels = sorted({round(size) for *_, size, _ in candidates}, reverse=True)[:3]
    return {(p, i): (levels.index(round(size)) + 1, title) for p, i, size, title in candidates if round(size) in levels}


def _carried_on(paragraphs: list[Paragraph], new: Paragraph) -> list[Paragraph]:
    """`paragraphs` with `new` added, or joined to the paragraph whose last sentence it carries on: a page or column
    break cut it ("... the correctness of the algorithm does not" / "depend on the precise data ..."), often with
    a footnote, a margin note or a displayed formula set between the two parts, which then follow it.

    A paragraph in lower case with no unfinished sentence before it opens a paragraph of its own (glossary-style
    notes: "critical density, the density needed to just halt universal expansion.")."""
    opening = new.text[:1]
    # A formula's symbol reads on as a lower-case word does ("... priority P/" / "√ r(r + 1), where ...").
    if new.kind != "text" or not (opening.islower() or unicodedata.category(opening) == "Sm") or _statement(new.text):
        return [*paragraphs, new]
    for back in range(1, min(CARRY_BACK, len(paragraphs)) + 1):
        cut = paragraphs[-back]
        if cut.kind == "text" and not ENDS_SENTENCE.search(cut.text.rstrip()):
            joined = Paragraph(
                f"{cut.text} {new.text}", cut.page, "text", joined_confidence(cut, new), cut.emphasis + new.emphasis
            )
            return [*paragraphs[:-back], joined, *paragraphs[len(paragraphs) - back + 1 :]]
        if not _set_apart(cut):
            break  # running text between: the lower-case paragraph does not carry on anything before it
    return [*paragraphs, new]


def _set_apart(paragraph: Paragraph) -> bool:
    """What a layout sets between the two parts of a cut paragraph: a footnote ("6Hoare proposed ...") or a
    displayed formula. Not a listing: text that follows code in lower case reads on from the listing."""
    text = paragraph.text.strip()
    letters = sum(c.isalpha() for c in text)
    return paragraph.kind == "text" and (bool(FOOTNOTE_MARK.match(text)) or letters < 0.5 * len(text.replace(" ", "")))


def _statement(text: str) -> bool:
    """A line of pseudocode that was not recognised as a listing ("if j > n", "for i 1 to n"): not prose."""
    return bool(pseudocode.COMMENT.search(text)) or (
        bool(pseudocode.KEYWORD.match(text)) and len(text.split()) <= 8 and not ENDS_SENTENCE.search(text)
    )


def _markdown(block: Block) -> str:
    if block.kind == "code":
        return f"```\n{block.text}\n```"
    return block.text


def to_sections(pages: list[list[Block]], headings: dict[tuple[int, int], Heading], filename: str) -> list[Section]:
    sections: list[Section] = []
    current = Section(1, filename.rsplit(".", 1)[0], 1, 1, untitled=True)
    for p, blocks in enumerate(pages, 1):
        starts = sorted(i for (page, i) in headings if page == p and i < 0)
        for i in starts:  # bookmarks not found in the text start at the top of their page
            sections.append(current)
            level, title = headings[(p, i)]
            current = Section(level, title, p, p)
        for i, b in enumerate(blocks):
            if (p, i) in headings:
                sections.append(current)
                level, title = headings[(p, i)]
                current = Section(level, title, p, p)
                continue
            paragraph = Paragraph(_markdown(b), p, b.kind, b.confidence, b.emphasis)
            current.paragraphs = _carried_on(current.paragraphs, paragraph)
            current.page_end = p
    sections.append(current)
    # The untitled lead-in before the first heading is kept only when it has text.
    return [s for i, s in enumerate(sections) if s.paragraphs or i > 0]


# A word broken at a line's end, as lines are joined ("algo- rithm", "level- order", "Huntington- Hill"): found from
# the break (a literal "- " the regex engine jumps to), then the word before it read backwards.
BREAK = re.compile(r"- ([^\W\d_]+)\b")
BEFORE_BREAK = re.compile(r"(?<![\w-])(?:[^\W\d_]+-)*[^\W\d_]+\Z")
WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# "breadth- and depth-first": a hyphen left for a word to come, not a break.
SUSPENDED = frozenset(["and", "or", "nor", "to", "vs", "versus"])


def _breaks(text: str) -> list[tuple[int, int, str, str]]:
    """Each broken word: where it starts and ends, and its two parts."""
    out = []
    for match in BREAK.finditer(text):
        left = BEFORE_BREAK.search(text[max(0, match.start() - 100) : match.start()])
        if left:
            out.append((match.start() - len(left.group(0)), match.end(), left.group(0), match.group(1)))
    return out


def _replaced(text: str, breaks: list[tuple[int, int, str, str]], words: list[str]) -> str:
    pieces, at = [], 0
    for (start, end, _, _), word in zip(breaks, words, strict=True):
        pieces += [text[at:start], word]
        at = end
    return "".join([*pieces, text[at:]])


def mended_words(sections: list[Section]) -> list[Section]:
    """Words the typesetter broke at a line's end made whole again, by what the document itself writes: "algorithm"
    when it writes "algorithm", "level-order" when it writes "level-order"; when it writes neither, a compound of
    two words it uses on their own ("six- week") keeps its hyphen and anything else is joined (hyphenation: "algo-
    rithm"). A capital after the break ("Rivest- Tarjan"), a part under two letters ("n- element") or a compound
    broken at its last hyphen ("divide-and- conquer") keeps the hyphen. Code and tables are left as they are."""
    text = "\n".join(p.text for s in sections for p in s.paragraphs if p.kind == "text")
    breaks = _breaks(text)
    if not breaks:
        return sections
    # The broken words' own pieces ("manu", "factured") must not count as words the document uses.
    whole = _replaced(text, breaks, [" "] * len(breaks))
    words = Counter(w.lower() for w in WORDS.findall(whole))

    def mend(left: str, right: str) -> str:
        if right.lower() in SUSPENDED:
            return f"{left}- {right}"
        joined, hyphenated = f"{left}{right}", f"{left}-{right}"
        if right[:1].isupper() or "-" in left or min(len(left), len(right)) < 2:
            return hyphenated
        if words[joined.lower()] or words[hyphenated.lower()]:
            return joined if words[joined.lower()] >= words[hyphenated.lower()] else hyphenated
        # Neither form elsewhere: two words the document uses on their own make a compound ("six- week").
        both_words = min(len(left), len(right)) >= 3 and words[left.lower()] and words[right.lower()]
        return hyphenated if both_words else joined

    def mended(text: str) -> str:
        found = _breaks(text)
        return _replaced(text, found, [mend(b[2], b[3]) for b in found]) if found else text

    for s in sections:
        for i, p in enumerate(s.paragraphs):
            if p.kind == "text" and "- " in p.text:
                # The terms set in bold in it are mended alike, so that they are found in its text.
                s.paragraphs[i] = replace(p, text=mended(p.text), emphasis=tuple(mended(t) for t in p.emphasis))
    return sections
