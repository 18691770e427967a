"""A worker's one-off start-up costs, paid when it starts instead of in the first teacher's job."""

from __future__ import annotations

import pymupdf

from ingestion.chunking import warm_up as warm_chunker
from ingestion.pdf import parse_pdf
from ingestion.sandbox import ParseLimits, parse_pdf_sandboxed
from tutor.embeddings import Embedder


def warm_up(embedder: Embedder) -> None:
    """Load the embedding model (seconds), the splitter's tokenizers (~2 s), the PDF parser (~0.1 s) and the parse
    server (its Python and the parser's imports: ~1.7 s on 2 cores, which the first job would otherwise wait for)."""
    embedder.embed_documents(["warm up the embedding model"])
    warm_chunker()
    with pymupdf.open() as doc:  # type: ignore[no-untyped-call]
        doc.new_page().insert_text((72, 72), "Warm up the parser.")
        sample = doc.tobytes()
    parse_pdf(sample, "warm-up.pdf", max_pages=1)
    parse_pdf_sandboxed(sample, "warm-up.pdf", ParseLimits(max_pages=1))
