"""Scanned-like PDFs made here: pages that are only a picture of printed text, beside ordinary text pages."""

from __future__ import annotations

import pymupdf
from fpdf import FPDF

Page = tuple[str, list[str]]  # a heading and its paragraphs


def text_pdf(pages: list[Page], *, size: str | tuple[float, float] = "A4") -> bytes:
    pdf = FPDF(format=size)
    for heading, paragraphs in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.multi_cell(0, 10, heading)
        pdf.ln(4)
        pdf.set_font("Helvetica", "", 11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(3)
    return bytes(pdf.output())


def page_picture(page: Page, *, dpi: int = 150) -> bytes:
    """A grey-scale PNG of a small printed page (A6, 105 x 148 mm), as a scanner makes it: pixels only, no text layer."""
    with pymupdf.open(stream=text_pdf([page], size=(105, 148)), filetype="pdf") as doc:
        return bytes(doc[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY).tobytes("png"))


def scanned_pdf(pages: list[Page | bytes], *, broken_pictures: tuple[int, ...] = ()) -> bytes:
    """Each page either text with a text layer, or a picture (PNG bytes) filling an A6 page. The pictures on
    the pages numbered in `broken_pictures` have their data replaced by bytes no decoder can read."""
    out = pymupdf.open()
    for number, page in enumerate(pages, 1):
        if isinstance(page, bytes):
            new = out.new_page(width=298, height=420)
            xref = new.insert_image(new.rect, stream=page)
            if number in broken_pictures:
                out.update_stream(xref, b"\x00 not an image \xff" * 64, compress=False)
                out.xref_set_key(xref, "Filter", "/FlateDecode")  # bytes that claim to be compressed and are not
        else:
            with pymupdf.open(stream=text_pdf([page]), filetype="pdf") as doc:
                out.insert_pdf(doc)
    return bytes(out.tobytes())
