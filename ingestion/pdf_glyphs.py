"""Characters a font's broken ToUnicode map misnames, read back from the glyphs' own names.

Some TeX toolchains write ToUnicode maps that give a math font's glyphs the characters at their places in TeX's
encodings instead of their own: in Erickson's book "Θ(n)" reads "⇥(n)", Σ "⌃", Ω "⌦", π "⇡", ∅ "?", and "≤"
comes out as U+F8FF, which the parser drops ("for all 1 i n"). The font's /Encoding names each glyph
(`Theta`, `lessequal`); a name in the Adobe Glyph List is the character.

A character is read back only where it is unambiguous: every code of the font (and of every font of that name on
the page: a book embeds several subsets of one font) that produces it names the same glyph, and that glyph's
name is in the list. Whitespace is never read back (the page's word gaps are spaces too), and neither is what a
font names correctly. Fonts without /Differences (nearly every text font) cost nothing but a dictionary lookup.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from fontTools.agl import toUnicode

_TOKEN = re.compile(r"/([^\s/\[\]<>()]+)|(\d+)")
_BFCHAR = re.compile(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_BFRANGE = re.compile(r"<([0-9A-Fa-f]{1,2})>\s*<([0-9A-Fa-f]{1,2})>\s*<([0-9A-Fa-f]+)>")
_SECTION = re.compile(r"begin(bfchar|bfrange)(.*?)end\1", re.S)
_SUBSET = re.compile(r"^[A-Z]{6}\+")
_REFERENCE = re.compile(r"(\d+) 0 R")
_SIZED = re.compile(r"(?:big|Big|bigg|Bigg)\d*$|(?<=[a-z])(?:text|display)$")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\ufffd]")

Table = dict[int, str]  # for str.translate
# TeX's names the Adobe Glyph List lacks, and its angle brackets as mathematics writes them (the list has the
# deprecated U+2329/U+232A).
TEX_NAMES = {
    "floorleft": "\u230a",
    "floorright": "\u230b",
    "ceilingleft": "\u2308",
    "ceilingright": "\u2309",
    "angleleft": "\u27e8",
    "angleright": "\u27e9",
}


class FontMaps:
    """One document's fonts, each analysed once. `on_page(page)` once a page, then `table(span_font)`: what a
    span's text needs translated (empty for nearly every span)."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self._fonts: dict[int, tuple[str, dict[str, set[str]]]] = {}  # xref -> (base name, produced -> named)
        self._on_page: list[tuple[str, dict[str, set[str]]]] = []  # the page's fonts that misname some glyph
        self._tables: dict[str, Table] = {}

    def on_page(self, page: Any) -> None:
        self._on_page = [font for font in map(self._font, self._page_fonts(page)) if font[1]]
        self._tables = {}

    def table(self, span_font: str) -> Table:
        if not self._on_page:
            return {}
        if span_font not in self._tables:
            self._tables[span_font] = self._table_for(span_font)
        return self._tables[span_font]

    def _table_for(self, span_font: str) -> Table:
        # MuPDF names a span's font by its base name without the subset tag, sometimes cut short.
        named: dict[str, set[str]] = {}
        for base, produced in self._on_page:
            if span_font and base.startswith(span_font):
                for char, names in produced.items():
                    named.setdefault(char, set()).update(names)
        table: Table = {}
        for char, names in named.items():
            if len(names) == 1 and (only := next(iter(names))) not in ("", char):
                table[ord(char)] = only
        return table

    def _page_fonts(self, page: Any) -> list[int]:
        """The page's fonts: its /Resources /Font read directly (0.07 ms; `get_fonts` takes 1 ms a page)."""
        fonts = _dictionary(self.doc, page.xref, "Resources/Font")
        if fonts is None:  # resources inherited from the page tree
            return [font[0] for font in page.get_fonts()]
        return [int(xref) for xref in _REFERENCE.findall(fonts)]

    def _font(self, xref: int) -> tuple[str, dict[str, set[str]]]:
        if xref not in self._fonts:
            produced = _produced(self.doc, xref)
            basefont = self.doc.xref_get_key(xref, "BaseFont")[1] if produced else ""
            self._fonts[xref] = (_SUBSET.sub("", basefont.lstrip("/")), produced)
        return self._fonts[xref]


def _produced(doc: Any, xref: int) -> dict[str, set[str]]:
    """Each character the font's ToUnicode map produces -> the characters its glyphs are named for ("" when a name
    is not in the list); empty when the font names no glyphs or has no map."""
    names = _differences(doc, xref)
    if not names:
        return {}
    out: dict[str, set[str]] = {}
    for code, text in _to_unicode(doc, xref).items():
        if len(text) != 1 or text.isspace() or code not in names:
            continue
        # "lessequal" -> "≤"; "" for a name not in the list. The list's Omega is the ohm sign and its mu the micro
        # sign (NFKC: the Greek letters), its Delta the increment sign.
        named = unicodedata.normalize("NFKC", _character(names[code])).replace("\u2206", "\u0394")
        usable = len(named) == 1 and not _PRIVATE_USE.match(named) and not named.isspace()
        out.setdefault(text, set()).add(named if usable else "")
    return out if any(text not in named for text, named in out.items()) else {}


def _character(name: str) -> str:
    """A glyph's character by its name; a TeX extension font's sized delimiters and operators ("parenleftbig1",
    "bracketrightBigg", "summationdisplay") are the character of their base name. The pieces of a tall brace or
    bracket ("bracelefttp", "braceex") are no character of their own."""
    base = _SIZED.sub("", name)
    return TEX_NAMES.get(base) or str(toUnicode(name) or toUnicode(base))


def _differences(doc: Any, xref: int) -> dict[int, str]:
    """The font's /Encoding /Differences: code -> glyph name."""
    value = _dictionary(doc, xref, "Encoding")  # a name ("/WinAnsiEncoding") names no glyph of its own
    start = value.find("/Differences") if value else -1
    if value is None or start < 0:
        return {}
    body = value[value.find("[", start) + 1 : value.find("]", start)]
    names: dict[int, str] = {}
    code = 0
    for match in _TOKEN.finditer(body):
        if match.group(2):
            code = int(match.group(2))
        else:
            names[code] = match.group(1)
            code += 1
    return names


def _dictionary(doc: Any, xref: int, key: str) -> str | None:
    """The dictionary under `key` of object `xref`, followed when it is a reference; None when it is none."""
    kind, value = doc.xref_get_key(xref, key)
    if kind == "xref":
        return str(doc.xref_object(int(value.split()[0]), compressed=True))
    return str(value) if kind == "dict" else None


def _to_unicode(doc: Any, xref: int) -> dict[int, str]:
    """The font's ToUnicode map for one-byte codes (a simple font's): code -> text."""
    kind, value = doc.xref_get_key(xref, "ToUnicode")
    if kind != "xref":
        return {}
    try:
        cmap = doc.xref_stream(int(value.split()[0])).decode("latin-1")
    except (RuntimeError, ValueError):
        return {}
    out: dict[int, str] = {}
    for section, body in _SECTION.findall(cmap):
        if section == "bfchar":
            for code, text in _BFCHAR.findall(body):
                out[int(code, 16)] = _utf16(text)
            continue
        for low, high, text in _BFRANGE.findall(body):
            first = int(text, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                out[code] = chr(first + offset) if first + offset < 0x110000 else ""
    return out


def _utf16(hex_text: str) -> str:
    try:
        return bytes.fromhex(hex_text).decode("utf-16-be")
    except ValueError:
        return ""
