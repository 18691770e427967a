"""Download headers: a file name as the teacher gave it, sent the way RFC 6266 says browsers read it."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

# RFC 5987 attr-char, besides letters and digits: what may stand unencoded in `filename*`.
_ATTR_CHARS = "!#$&+-.^_`|~"


def _ascii_fallback(filename: str) -> str:
    """For clients that ignore `filename*`: accents dropped, anything else outside printable ASCII (and the quote
    and backslash that would end or escape the quoted string) replaced by `_`."""
    out = []
    for char in unicodedata.normalize("NFKD", filename):
        if unicodedata.combining(char):
            continue
        out.append(char if " " <= char <= "~" and char not in '"\\' else "_")
    return "".join(out).strip() or "download"


def attachment(filename: str) -> str:
    """`Content-Disposition` for a download named `filename` (any text: it is never used as a path here)."""
    return f"attachment; filename=\"{_ascii_fallback(filename)}\"; filename*=UTF-8''{quote(filename, safe=_ATTR_CHARS)}"
