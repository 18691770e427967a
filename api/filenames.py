"""File names as the teacher gave them: read from an upload form, and sent back in download headers the way
RFC 6266 says browsers read them. Never used as paths."""

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


# What browsers (and httpx) escape in a multipart file name (WHATWG HTML, "multipart/form-data encoding
# algorithm"), and multipart parsers leave escaped.
_FORM_ESCAPES = (("%22", '"'), ("%0D", "\r"), ("%0A", "\n"))


def from_form(filename: str) -> str:
    """The file's own name from a multipart upload: `Übung "x".pdf` arrives as `Übung %22x%22.pdf`."""
    for escaped, char in _FORM_ESCAPES:
        filename = filename.replace(escaped, char).replace(escaped.lower(), char)
    return filename
