"""Scanned pages are recognised (OCR): a mixed PDF is one course with both kinds of page, the recognised text is
flagged with its confidence in PostgreSQL and Chroma, and the job says how many pages were recognised; a scan
whose picture cannot be read leaves that page out, by name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.factories import ingest_course
from tests.ingestion.scans import page_picture, scanned_pdf
from tutor.settings import Settings
from tutor.vectorstore import open_vector_store

TYPED = ("Cells", ["A cell is the smallest unit of life. Every organism is made of one or more cells."])
SCANNED = (
    "Photosynthesis",
    ["Plants capture sunlight in their chloroplasts and turn carbon dioxide and water into sugar."],
)
SCANNED_TOO = ("Respiration", ["Cells release the energy stored in sugar inside their mitochondria."])


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).mappings().all())


async def _job(engine: AsyncEngine, course_id: int) -> Any:
    (job,) = await _rows(
        engine,
        "SELECT status, message, result FROM job_queue WHERE (payload->>'course_id')::int = :course",
        course=course_id,
    )
    return job


async def test_scanned_pages_are_recognised_into_one_course_flagged_counted_and_unreadable_ones_named(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    """One upload of a mixed PDF (a typed page, a scanned one) and a scanned-only PDF (which used to fail with
    "no text layer") whose second page's picture is damaged."""
    mixed = scanned_pdf([TYPED, page_picture(SCANNED)])
    unreadable = page_picture(("Unreadable", ["This picture's data is damaged."]))
    scan = scanned_pdf([page_picture(SCANNED_TOO), unreadable], broken_pictures=(2,))

    course_id = await ingest_course(settings, sessions, [("handout.pdf", mixed), ("scan.pdf", scan)], title="Biology")

    job = await _job(db, course_id)
    assert job["status"] == "completed", job
    assert "handout.pdf: 1 page recognised by OCR" in job["message"]
    assert "scan.pdf: 1 page recognised by OCR" in job["message"]
    assert "scan.pdf: 1 page without text skipped (its picture cannot be read): 2" in job["message"]
    assert job["result"]["recognised_pages"] == {"handout.pdf": [2], "scan.pdf": [1]}
    assert job["result"]["scanned_pages"] == {"scan.pdf": [2]}
    chunks = await _rows(
        db,
        "SELECT chunk_id, filename, text, page_start, ocr, ocr_confidence FROM course_chunks WHERE course_id = :c",
        c=course_id,
    )
    typed = [c for c in chunks if "smallest unit of life" in c["text"]]
    scanned = [c for c in chunks if c["filename"] == "handout.pdf" and "chloroplasts" in c["text"]]
    assert typed and all(not c["ocr"] and c["ocr_confidence"] is None for c in typed)
    assert scanned and all(c["ocr"] and 0.8 < c["ocr_confidence"] <= 1 for c in scanned)
    assert "carbon dioxide and water into sugar" in " ".join(c["text"] for c in scanned)
    assert any(c["filename"] == "scan.pdf" and "mitochondria" in c["text"] and c["ocr"] for c in chunks)
    # The index carries the same flag and confidence (the chat's citations and a reindex see them alike).
    indexed = open_vector_store(settings).records(course_id, [c["chunk_id"] for c in scanned])
    assert indexed and all(r.metadata.ocr and r.metadata.ocr_confidence for r in indexed.values())
