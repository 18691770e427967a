"""A page's text spans (PyMuPDF's dict) into blocks: prose with inline code, code with its indentation, table rows
in cells, each with its size, weight and position."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import pairwise
from typing import Any

import pymupdf

from ingestion import pseudocode
from ingestion.pdf_glyphs import FontMaps
from ingestion.pdf_types import Block, BlockKind

# TEXT_DEHYPHENATE joins "exam-\nple"; ligatures and whitespace are kept as the PDF has them.
TEXT_FLAGS = pymupdf.TEXT_DEHYPHENATE | pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
# Glyphs without a Unicode mapping come out as U+FFFD/U+FFFF or private-use codes: drop them.
GARBAGE = re.compile(r"[\ufffd\uffff\ue000-\uf8ff\u0000-\u0008\u2122]")
# A sentence's end, closing quotes and brackets after it ("... as promised." / "... (see Figure 2).").
ENDS_SENTENCE = re.compile(r"[.!?:;][\"\u201d\u2019)\]]*$")
# A footnote's first line: its number, raised or not, glued to its text ("5Goldstine ...", "^12See ...").
FOOTNOTE_MARK = re.compile(r"^\^?\d{1,3}(?=[A-Z\u201c\"(])")
SPACES = re.compile(r"\s+")


MONOSPACED, BOLD, SUPERSCRIPT = 8, 16, 1  # span flags
# A term an author sets in bold: words of letters (hyphens, apostrophes), one to four of them, ending in a letter.
TERM_LIKE = re.compile(r"^[^\W\d_][\w'\u2019-]*(?: [\w'\u2019-]+){0,3}$")
STRESS = re.compile(r"(?:ly|er|est)$")  # a lone "really", "smaller" or "largest" in bold is stress, not a term
# TeX's math symbol fonts (the OMS encoding: cmsy, Latin Modern's, MathDesign's, tx/px): the symbols at the places
# of the ASCII characters a PDF without a Unicode map for them yields. Not Adobe's Symbol font (another encoding).
OMS_FONT = re.compile(r"(?i:cmsy\d*$|lmmathsymbols|txsy|pxsy)|MathDesign-CH-\w+-Sy")
OMS = str.maketrans(
    {
        "!": "\u2192",  # \rightarrow
        '"': "\u2191",  # \uparrow
        "#": "\u2193",  # \downarrow
        "$": "\u2194",  # \leftrightarrow
        "(": "\u21d0",  # \Leftarrow
        ")": "\u21d2",  # \Rightarrow
        ",": "\u21d4",  # \Leftrightarrow
        "0": "\u2032",  # \prime
        "1": "\u221e",  # \infty
        "2": "\u2208",  # \in
        "3": "\u220b",  # \ni
        "8": "\u2200",  # \forall
        "9": "\u2203",  # \exists
        ":": "\u00ac",  # \neg
        ";": "\u2205",  # \emptyset
        "[": "\u222a",  # \cup
        "\\": "\u2229",  # \cap
        "^": "\u2227",  # \wedge
        "_": "\u2228",  # \vee
        "b": "\u230a",  # \lfloor
        "c": "\u230b",  # \rfloor
        "d": "\u2308",  # \lceil
        "e": "\u2309",  # \rceil
        "f": "{",
        "g": "}",
        "h": "\u27e8",  # \langle
        "i": "\u27e9",  # \rangle
        "j": "|",
        "k": "\u2016",  # \Vert
        "p": "\u221a",  # \surd
        "x": "\u00a7",  # \S (section)
        "y": "\u2020",  # \dagger
        "z": "\u2021",  # \ddagger
    }
)
ARROWS = frozenset("\u2190\u2192\u2191\u2193\u2194\u21d0\u21d2\u21d4")
# TeX's math italic fonts (OML): \ell at the place of "`", and Greek letters some PDFs map to arrows.
OML_FONT = re.compile(r"(?i:cmmi\d*$|lmmathitalic)|MathDesign-CH-\w+-It")
OML = str.maketrans({"`": "\u2113", "\u21b5": "\u03b1", "\u21e2": "\u03c1"})  # \ell, \alpha, \rho
MONO_FONT = re.compile(r"courier|mono|consol|menlo|inconsolata|typewriter|cmtt|lmtt|sourcecode|firacode|code", re.I)


# TeX sets an accent as a glyph of its own, drawn before the letter it sits on: the text reads "G¨odel", "m¯atr¯a",
# "Erd˝os". Spacing accent -> its combining mark; the acute only on a vowel, where it cannot be an apostrophe set
# as an acute (as in "it's" by some typists). TeX's dotless i and j under an accent are i and j.
ACCENTS = {
    "\u00af": "\u0304",  # macron
    "\u00b4": "\u0301",  # acute
    "\u00a8": "\u0308",  # diaeresis
    "\u02c6": "\u0302",  # circumflex
    "\u02dc": "\u0303",  # tilde
    "\u02dd": "\u030b",  # double acute
    "\u02c7": "\u030c",  # caron
    "\u02d8": "\u0306",  # breve
    "\u02d9": "\u0307",  # dot above
}
ACCENTED = re.compile(
    "(?:\u00b4(?=[AEIOUYaeiouy\u0131])|[\u00af\u00a8\u02c6\u02dc\u02dd\u02c7\u02d8\u02d9])[A-Za-z\u0131\u0237]"
)


def _accented(match: re.Match[str]) -> str:
    accent, letter = match.group(0)[0], match.group(0)[1]
    letter = {"\u0131": "i", "\u0237": "j"}.get(letter, letter)
    composed = unicodedata.normalize("NFC", letter + ACCENTS[accent])
    return composed if len(composed) == 1 else match.group(0)  # no such letter: leave what the page has


def clean(text: str) -> str:
    return ACCENTED.sub(_accented, SPACES.sub(" ", GARBAGE.sub("", text)).strip())


def _mono(span: dict[str, Any]) -> bool:
    return bool(span["flags"] & MONOSPACED) or _mono_font(span["font"])


@lru_cache(maxsize=1024)
def _mono_font(name: str) -> bool:
    return bool(MONO_FONT.search(name))  # asked once per span (~900 a page): a book uses a few dozen fonts


@lru_cache(maxsize=1024)
def _symbol_font(name: str) -> bool:
    return bool(OMS_FONT.search(name))


@lru_cache(maxsize=1024)
def _math_font(name: str) -> bool:
    return _symbol_font(name) or bool(OML_FONT.search(name))


def _line_runs(lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A PDF block's lines in runs of one style: a heading or a code listing set in the block is its own run."""
    runs: list[list[dict[str, Any]]] = []
    previous: tuple[bool, float] | None = None
    for line in lines:
        spans = [s for s in line["spans"] if s["text"].strip()]
        if not spans:
            continue
        chars = sum(len(s["text"].strip()) for s in spans)
        mono = sum(len(s["text"].strip()) for s in spans if _mono(s)) >= 0.8 * chars
        size = max(spans, key=lambda s: len(s["text"].strip()))["size"]
        if previous is None or previous[0] != mono or abs(previous[1] - size) > 1.0:
            runs.append([])
        runs[-1].append(line)
        previous = (mono, size)
    return runs


def _code_text(lines: list[dict[str, Any]]) -> str:
    """Lines as printed: line breaks kept, indentation rebuilt from each line's position. Pieces the PDF wrote as
    lines of their own on one baseline (a comment set far to the right, the letters of a figure's row) are one row,
    spaced as printed."""
    widths = [
        (s["bbox"][2] - s["bbox"][0]) / len(s["text"]) for line in lines for s in line["spans"] if len(s["text"]) >= 4
    ]
    char = sorted(widths)[len(widths) // 2] if widths else 6.0
    left = min(line["bbox"][0] for line in lines)
    rows: list[list[dict[str, Any]]] = []
    for line in lines:
        height = line["bbox"][3] - line["bbox"][1]
        if rows and abs(rows[-1][0]["bbox"][1] - line["bbox"][1]) < 0.5 * height:
            rows[-1].append(line)
        else:
            rows.append([line])
    out = []
    for row in rows:
        row.sort(key=lambda ln: ln["bbox"][0])
        text, end = "", left
        for line in row:
            gap = round((line["bbox"][0] - end) / char)
            text += (
                " " * max(1 if text else 0, gap) + GARBAGE.sub("", "".join(s["text"] for s in line["spans"])).rstrip()
            )
            end = line["bbox"][2]
        out.append(text.rstrip())
    return "\n".join(out)


GAP_EMS = 0.2  # TeX's thin space is 0.17 em, an italic correction under 0.1


def _prose_text(lines: list[dict[str, Any]]) -> str:
    """Lines joined into running text; monospaced words inside it stay inline code (`name`)."""
    parts = []
    for line in lines:
        pieces: list[str] = []
        end, size = None, 0.0
        for span in line["spans"]:
            text = span["text"]
            # A gap between two spans is a space MuPDF did not write when it is wide: TeX spaces a relation (≤, =)
            # or an operator by a quarter em and more, and writes no space character ("n ≤1" for n ≤ 1).
            wide = end is not None and span["bbox"][0] - end >= GAP_EMS * max(size, span["size"])
            if wide and pieces and not pieces[-1][-1:].isspace() and not text[:1].isspace():
                pieces.append(" ")
            end, size = span["bbox"][2], span["size"]
            if _mono(span) and text.strip():
                lead, core, trail = text[: len(text) - len(text.lstrip())], text.strip(), text[len(text.rstrip()) :]
                text = f"{lead}`{core}`{trail}"
            elif span["flags"] & SUPERSCRIPT and text.strip() and len(text.strip()) <= 3:
                text = f"^{text.strip()}"  # x², not x2: a formula keeps its exponent
            pieces.append(text)
        parts.append("".join(pieces))
    return clean(" ".join(parts)).replace("` `", " ").replace("``", "")


def _emphasised(lines: list[dict[str, Any]]) -> tuple[str, ...]:
    """Words set in bold inside running text (bold italic too): the author's key terms ("the **base case**").

    A run-in label is not a term: bold text with its own colon or full stop ("**Solution.** Give ..."), after a list
    mark ("1. **Divide** the instance"), or opening the block with a colon or full stop after it ("**Proof**: ...").
    A bold word opening a block without one is a term ("**Osmosis** is ..."): a PDF may start a new block at any
    line of a paragraph. A run may go on over a line break ("divide" / "and conquer"; a word broken there is mended
    with the paragraph's, `pdf_sections.mended_words`). Plain italics are left out: most books set stress in them."""
    pieces: list[tuple[bool, str]] = []  # (bold, text) in reading order, neighbours of one weight merged
    for span in (s for line in lines for s in line["spans"]):
        text = span["text"]
        bold = bool(span["flags"] & BOLD) and not _mono(span)
        if pieces and (pieces[-1][0] == bold or not text.strip()):
            pieces[-1] = (pieces[-1][0], f"{pieces[-1][1]} {text}")
        elif text.strip():
            pieces.append((bold, text))
    terms = []
    opening = True  # nothing before this piece in the block ("**Proof**: ...")
    words_before = False  # a word before it, not only a list mark ("1. **Divide**")
    for i, (bold, text) in enumerate(pieces):
        after = pieces[i + 1][1].lstrip() if i + 1 < len(pieces) else ""
        label = (
            text.rstrip().endswith((":", "."))
            or (not opening and not words_before)
            or (opening and after.startswith((":", ".", "\u2014", "\u2013")))
        )
        term = clean(text).strip(" .,;:!?()[]\"'\u201c\u201d")
        lone_word = " " not in term and (len(term) < 5 or bool(STRESS.search(term)))
        if bold and not label and TERM_LIKE.match(term) and not term.endswith("-") and not lone_word:
            terms.append(term)
        opening = False
        words_before = words_before or any(c.isalpha() for c in text)
    return tuple(dict.fromkeys(terms))


def _grid_rows(lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The block's lines as table rows when they sit side by side in cells, each row with the same count."""
    rows: list[list[dict[str, Any]]] = []
    for line in sorted(lines, key=lambda ln: (ln["bbox"][1], ln["bbox"][0])):
        if rows and abs(rows[-1][0]["bbox"][1] - line["bbox"][1]) < 2:
            rows[-1].append(line)
        else:
            rows.append([line])
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) < 2:
        return []
    for row in rows:
        row.sort(key=lambda ln: ln["bbox"][0])
        size = row[0]["spans"][0]["size"]
        if any(b["bbox"][0] - a["bbox"][2] < size for a, b in pairwise(row)):
            return []  # words of one line, not cells
    return rows


def _style(lines: list[dict[str, Any]]) -> tuple[float, bool, bool]:
    """The size most of the text is set in, whether most of it is bold, whether it is monospaced (code).

    Glyphs without a Unicode mapping (dingbats, stars) count for nothing: a marker must not set a heading's size."""
    sizes: Counter[float] = Counter()
    bold_chars = mono_chars = 0
    for line in lines:
        for span in line["spans"]:
            n = len(GARBAGE.sub("", span["text"]).strip())
            sizes[round(span["size"], 1)] += n
            bold_chars += n if span["flags"] & BOLD else 0
            mono_chars += n if _mono(span) else 0
    total = sum(sizes.values())
    if not total:
        return 0.0, False, False
    return sizes.most_common(1)[0][0], bold_chars > 0.6 * total, mono_chars >= 0.8 * total


def _math_symbols(span: dict[str, Any]) -> str:
    """A TeX math font's text as the symbols printed. Without a Unicode map in the PDF a symbol font's codes come
    out as the ASCII characters at their places ("m bn/2c" for m ← ⌊n/2⌋, "hhRecurse!ii" for ⟨⟨Recurse!⟩⟩). Its ←
    is code 32, a space: told from a space put between words by its width, a full em."""
    if not _symbol_font(span["font"]):
        return str(span["text"]).translate(OML)
    text: str = span["text"].translate(OMS)
    rest = text.lstrip(" ")
    if rest != text:
        size = span["size"] or 1.0
        # What the rest takes: an arrow a full em, any other symbol about half of one.
        ems = (span["bbox"][2] - span["bbox"][0] - sum(1.0 if c in ARROWS else 0.5 for c in rest) * size) / size
        arrows = round(ems)
        # Only a whole number of ems, within what the guess of the rest's width allows, is arrows; a gap before
        # a comment set far right is any width.
        if 1 <= arrows <= len(text) - len(rest) and abs(ems - arrows) <= 0.2 * max(1, len(rest)) and ems < 2.5:
            text = " \u2190 " * arrows + rest
    return text


def page_blocks(page: Any, number: int, fonts: FontMaps) -> list[Block]:
    """The page's text blocks; `fonts`: the document's, to read back what broken ToUnicode maps misname."""
    out = []
    fonts.on_page(page)
    for b in page.get_text("dict", flags=TEXT_FLAGS)["blocks"]:
        if b.get("type") != 0:
            continue
        for span in (s for line in b["lines"] for s in line["spans"]):
            if _math_font(span["font"]):
                span["text"] = _math_symbols(span)
            if table := fonts.table(span["font"]):
                span["text"] = span["text"].translate(table)
        rows = _grid_rows(b["lines"])
        for row in rows:
            cells = tuple((ln["bbox"][0], clean("".join(s["text"] for s in ln["spans"]))) for ln in row)
            size, bold, _ = _style(row)
            x0, y0 = row[0]["bbox"][0], min(ln["bbox"][1] for ln in row)
            x1, y1 = row[-1]["bbox"][2], max(ln["bbox"][3] for ln in row)
            laid = tuple((x, y0, size, c) for x, c in cells if c)
            text = " ".join(c for _, c in cells if c)
            out.append(Block(number, text, size, bold, x0, y0, x1, y1, "text", cells, lines=laid))
        if rows:
            continue
        for lines in _line_runs(b["lines"]):
            size, bold, code = _style(lines)
            text = _code_text(lines) if code else _prose_text(lines)
            if not text.strip() or not size:
                continue
            x0 = min(line["bbox"][0] for line in lines)
            y0 = min(line["bbox"][1] for line in lines)
            x1 = max(line["bbox"][2] for line in lines)
            y1 = max(line["bbox"][3] for line in lines)
            kind: BlockKind = "code" if code else "text"
            laid = () if code else tuple(_laid_out(line) for line in lines)
            some_bold = not (code or bold) and any(s["flags"] & BOLD for line in lines for s in line["spans"])
            emphasis = _emphasised(lines) if some_bold else ()
            out.append(Block(number, text, size, bold, x0, y0, x1, y1, kind, lines=laid, emphasis=emphasis))
    return out


def _laid_out(line: dict[str, Any]) -> pseudocode.Line:
    spans = [s for s in line["spans"] if s["text"].strip()] or line["spans"]
    size = max(spans, key=lambda s: len(s["text"].strip()))["size"]
    return line["bbox"][0], line["bbox"][1], size, clean("".join(s["text"] for s in line["spans"]))
