"""Real course PDFs for API-level tests, written with fpdf2 from SciQ's textbook paragraphs."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import cache

from fpdf import FPDF

from tests.conftest import SHARED


def unique_user(prefix: str) -> str:
    """A user id no earlier run used: per-user limits kept in a shared Redis (uploads per hour) start afresh."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Chapter:
    heading: str
    sections: tuple[Section, ...]


@cache
def sciq_items() -> list[dict[str, str]]:
    path = SHARED / "data" / "sciq_valid" / "sciq_valid.jsonl"
    items = [json.loads(line) for line in path.read_text().splitlines()]
    return [i for i in items if len(i["support"]) > 200]


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def sciq_chapters(n_chapters: int = 3, sections: int = 3, paragraphs: int = 2, offset: int = 0) -> list[Chapter]:
    items = iter(sciq_items()[offset:])
    chapters = []
    for c in range(n_chapters):
        secs = []
        for s in range(sections):
            paras = tuple(next(items)["support"] for _ in range(paragraphs))
            title = " ".join(paras[0].split()[:4]).strip(".,;:")
            secs.append(Section(f"{c + 1}.{s + 1} {title}", paras))
        chapters.append(Chapter(f"Chapter {c + 1}: {secs[0].heading.split(' ', 1)[1]}", tuple(secs)))
    return chapters


def course_pdf(chapters: list[Chapter], *, outline: bool = True, title: str = "Course notes") -> bytes:
    """A text PDF: big bold chapter headings, smaller section headings, body paragraphs; bookmarks if asked."""
    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(title)
    for chapter in chapters:
        pdf.add_page()
        if outline:
            pdf.start_section(_latin1(chapter.heading), level=0)
        pdf.set_font("Helvetica", "B", 20)
        pdf.multi_cell(0, 10, _latin1(chapter.heading))
        pdf.ln(4)
        for section in chapter.sections:
            if outline:
                pdf.start_section(_latin1(section.heading), level=1)
            pdf.set_font("Helvetica", "B", 14)
            pdf.multi_cell(0, 8, _latin1(section.heading))
            pdf.ln(2)
            pdf.set_font("Helvetica", "", 11)
            for paragraph in section.paragraphs:
                pdf.multi_cell(0, 6, _latin1(paragraph))
                pdf.ln(3)
    return bytes(pdf.output())


def image_only_pdf(pages: int = 2) -> bytes:
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.set_fill_color(120, 120, 120)
        pdf.rect(20, 20, 150, 200, style="F")  # a "scan": marks on the page, no text layer
    return bytes(pdf.output())


@cache
def _noise_pdf(pages: int, side: int) -> bytes:
    import random

    from PIL import Image

    rng = random.Random(pages * side)
    pdf = FPDF()
    pdf.set_title("noise-0000")
    for _ in range(pages):
        pdf.add_page()
        pixels = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        pdf.image(pixels, x=10, y=10, w=180)
    return bytes(pdf.output())


def noise_pdf(*, seed: int, pages: int = 2, side: int = 900) -> bytes:
    """A valid PDF of a few MB: each page a picture of random pixels (incompressible), as a scanned book is big.
    Files of different seeds differ (in their title, so all of them are made from one rendering)."""
    return _noise_pdf(pages, side).replace(b"noise-0000", f"noise-{seed:04d}".encode())


def encrypted_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(0, 10, "Locked content")
    return bytes(pdf.output())


async def ingest_course(
    settings,
    sessions,
    files: list[tuple[str, bytes]],
    *,
    teacher: str = "teacher-chat",  # type: ignore[no-untyped-def]
    title: str = "Science",
) -> int:
    """A course built by the real pipeline, in process (no broker): rows in PostgreSQL, chunks in Chroma."""
    from ingestion.pipeline import Ingestor
    from ingestion.storage import open_storage
    from ingestion.uploads import UploadedFile, accept_upload
    from tutor.embeddings import get_embedder
    from tutor.identity import Principal, sign_in
    from tutor.vectorstore import open_vector_store

    owner = Principal(teacher, "teacher")
    async with sessions() as session, session.begin():
        await sign_in(session, owner)
        receipt = await accept_upload(
            session,
            open_storage(settings),
            settings,
            uploader=owner,
            files=[UploadedFile(n, d) for n, d in files],
            title=title,
            description=None,
            course_id=None,
        )
    ingestor = Ingestor(settings, sessions, open_storage(settings), open_vector_store(settings), get_embedder(settings))
    await ingestor.run(receipt.job_id)
    return receipt.course_id
