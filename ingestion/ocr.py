"""Text recognition for scanned pages, offline: RapidOCR's PP-OCR detection and recognition models, which ship
in its wheel, on ONNX Runtime. Runs in the OCR child (`ingestion.ocr_sandbox`): the engine is imported there only,
so a worker or a text PDF never loads it.

Each page is drawn at 150 dpi; recognised lines become the same `Block`s as a text layer gives (in PDF points,
with a font size estimated from the line's height), grouped into paragraphs, each with its confidence.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.pdf import Block, clean

# Recognition scales every line to 48 px high, so its cost is set by the text, not the resolution; 150 dpi draws
# 10-pt text 21 px high (enough) and keeps detection cheap.
DPI = 150
# A detected line box is this much taller than the font's size (ascenders, descenders, the detector's margin):
# measured 0.83-0.84 on the Erickson pages against their text layer.
SIZE_PER_HEIGHT = 0.83
DETECT_SIDE = 1024
MIN_CONFIDENCE = 0.5  # lines below it are mostly noise (specks, ruled lines, pictures)


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class PageOcr:
    """What was recognised on one page: its text as blocks, or why there is none."""

    page: int
    blocks: tuple[Block, ...] = ()
    skipped: str | None = None


def models_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).parent / "models"


def engine(threads: int) -> Any:
    """The recognizer, its models named by path: RapidOCR would otherwise look them up (and could download)."""
    from rapidocr import RapidOCR

    models = models_dir()
    return RapidOCR(
        params={
            "Global.use_cls": False,  # pages are drawn upright; the line-direction classifier only costs time
            "Global.log_level": "error",
            "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
            "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
            "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
            # Detection at most 1024 px on the long side (a page at 150 dpi is ~1750): a third of the pixels,
            # 10-pt text still ~12 px high, which the detector finds.
            "Det.limit_type": "max",
            "Det.limit_side_len": DETECT_SIDE,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )


def recognise(data: bytes, pages: Sequence[int], *, threads: int = 2) -> Iterator[PageOcr]:
    """Each page's recognised text, one page at a time (a caller that is stopped keeps the pages before)."""
    import numpy as np
    import pymupdf

    doc: Any = pymupdf.open(stream=data, filetype="pdf")  # type: ignore[no-untyped-call]
    recognizer = None
    try:
        for number in pages:
            try:
                pix = doc.load_page(number - 1).get_pixmap(dpi=DPI, colorspace=pymupdf.csRGB, alpha=False)
                rows = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)
                image = rows[:, : pix.width * 3].reshape(pix.height, pix.width, 3)
            except Exception as exc:
                yield PageOcr(number, skipped=f"it could not be drawn ({str(exc)[:120] or type(exc).__name__})")
                continue
            if recognizer is None:
                recognizer = engine(threads)
            try:
                lines = _lines(recognizer(image), 72 / DPI)
            except Exception as exc:  # one page the recognizer cannot take must not lose the others
                yield PageOcr(number, skipped=f"text recognition failed on it ({str(exc)[:120] or type(exc).__name__})")
                continue
            if not lines:
                yield PageOcr(number, skipped="no text was recognised on it")
                continue
            yield PageOcr(number, tuple(blocks_from_lines(lines, number)))
    finally:
        doc.close()


def _lines(result: Any, scale: float) -> list[OcrLine]:
    if result.boxes is None or not result.txts:
        return []
    out = []
    for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        text = clean(str(text))
        if not text or float(score) < MIN_CONFIDENCE:
            continue
        xs, ys = [float(p[0]) * scale for p in box], [float(p[1]) * scale for p in box]
        out.append(OcrLine(text, float(score), min(xs), min(ys), max(xs), max(ys)))
    return out


def blocks_from_lines(lines: list[OcrLine], page: int) -> list[Block]:
    """Lines into paragraphs: a line joins the paragraph above it when it follows closely in the same column at
    about the same height, unless the line before ended a sentence well short of the column's edge."""
    paragraphs: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.y0, ln.x0)):
        home = next((p for p in reversed(paragraphs[-6:]) if _continues(p, line)), None)
        if home is None:
            paragraphs.append([line])
        else:
            home.append(line)
    return [_block(p, page) for p in paragraphs]


def _continues(paragraph: list[OcrLine], line: OcrLine) -> bool:
    last = paragraph[-1]
    h = statistics.median(ln.height for ln in paragraph)
    left = min(ln.x0 for ln in paragraph)
    right = max(ln.x1 for ln in paragraph)
    return (
        -0.5 * h <= line.y0 - last.y1 <= 0.5 * h
        and line.x0 < last.x1
        and last.x0 < line.x1
        and abs(line.x0 - left) < 2.5 * h
        and 0.75 < line.height / h < 1.33
        and not (last.text.endswith((".", ":", "!", "?")) and last.x1 < right - 3 * h)
    )


def _block(lines: list[OcrLine], page: int) -> Block:
    text = ""
    for line in lines:
        if text.endswith("-") and line.text[:1].islower():
            text = text[:-1] + line.text  # a word hyphenated at the line's end
        else:
            text = f"{text} {line.text}" if text else line.text
    weight = sum(len(ln.text) for ln in lines)
    confidence = sum(ln.confidence * len(ln.text) for ln in lines) / max(1, weight)
    size = round(statistics.median(ln.height for ln in lines) * SIZE_PER_HEIGHT * 2) / 2
    return Block(
        page,
        text,
        size,
        False,
        min(ln.x0 for ln in lines),
        min(ln.y0 for ln in lines),
        max(ln.x1 for ln in lines),
        max(ln.y1 for ln in lines),
        confidence=round(confidence, 4),
    )
