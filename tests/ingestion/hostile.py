"""Hostile PDFs written byte by byte, small on disk and expensive to read."""

from __future__ import annotations

import zlib


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of numbered objects (1 is the catalog) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def flate_bomb(inflated_mb: int = 400) -> bytes:
    """One page whose content stream inflates to `inflated_mb` MB of text-showing operators (~1000:1)."""
    line = b"(" + b"Osmosis moves water across a membrane. " * 25 + b") Tj T*\n"
    block = line * (2**20 // len(line) + 1)
    packer = zlib.compressobj(9)
    stream = packer.compress(b"BT /F1 10 Tf 12 TL 20 780 Td\n")
    stream += b"".join(packer.compress(block) for _ in range(inflated_mb))
    stream += packer.compress(b"ET\n") + packer.flush()
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def _page_tree(pages: int, content: bytes, extra: bytes = b"") -> list[bytes]:
    """Catalog, pages, one content stream shared by `pages` pages, a font; `extra` goes into each page."""
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
        b"/Resources << /Font << /F1 4 0 R >> >> " + extra + b">>"
    )
    return objects + [page] * pages


def many_pages(pages: int) -> bytes:
    """A small file with `pages` pages (all drawing one shared line of text)."""
    return _pdf(_page_tree(pages, b"BT /F1 12 Tf 72 720 Td (Page of a very long book) Tj ET"))


def deep_nesting(depth: int = 100_000) -> bytes:
    """A page whose dictionary holds arrays nested `depth` deep (parsers that recurse run out of stack)."""
    nested = b"[" * depth + b"]" * depth
    return _pdf(_page_tree(1, b"BT /F1 12 Tf 72 720 Td (Nested) Tj ET", extra=b"/Deep " + nested + b" "))


def script_in_metadata(text_pdf: bytes) -> bytes:
    """A readable PDF whose document title is markup with a script."""
    from io import BytesIO

    import pymupdf

    doc = pymupdf.open(stream=text_pdf, filetype="pdf")  # type: ignore[no-untyped-call]
    doc.set_metadata({"title": '<script>alert("x")</script>', "author": "<img src=x onerror=alert(1)>"})
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def corrupted(pdf: bytes, seed: int, flips: int = 200) -> bytes:
    """`pdf` with `flips` random bytes in its body overwritten (its header and end marker kept)."""
    import random

    rng = random.Random(seed)
    data = bytearray(pdf)
    for _ in range(flips):
        data[rng.randrange(64, len(data) - 64)] = rng.randrange(256)
    return bytes(data)
