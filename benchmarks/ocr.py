"""OCR of scanned pages: accuracy, speed and memory on real pages turned into scans; prints JSON.

    python benchmarks/ocr.py [--erickson-pages 8] [--sciq-pages 3] [--dpi 150]

Pages of the Erickson chapter PDFs and of a PDF of SciQ's support paragraphs are drawn to grey-scale pictures at
`--dpi` (a scanner's resolution) and put on image-only pages: a scanned-like PDF. That PDF goes through the real
path (`ingestion.ocr_sandbox.parse_with_ocr`: parse sandbox, OCR child, parse again) and each page's text is
compared with what the same parser reads from the original page's text layer: character error rate (edit
distance / length of the text layer's text, whitespace collapsed, ligatures and unmapped glyphs normalised), and
the same without any whitespace (spacing errors apart). The Erickson text layer is itself imperfect (symbols such
as π and Σ map to other code points, figure digits extract badly), so its rate is an upper bound; SciQ's text
layer is exact. Speed: pages per second of the OCR child (wall clock, under whatever load the machine has);
memory: the OCR child's peak RSS, and this process's (the worker's side) peak RSS.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import sciq, sciq_pdf  # noqa: E402

from ingestion.ocr_sandbox import OcrLimits, parse_with_ocr  # noqa: E402
from ingestion.pdf import GARBAGE, parse_pdf  # noqa: E402
from ingestion.sandbox import ParseLimits  # noqa: E402

ERICKSON = REPO.parent / "shared" / "data" / "erickson_algorithms"


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one row at a time in numpy (insertions by a running minimum)."""
    if not a or not b:
        return len(a) + len(b)
    codes = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    previous = steps.copy()
    for i, char in enumerate(a, 1):
        best = np.empty(len(b) + 1, dtype=np.int64)
        best[0] = i
        best[1:] = np.minimum(previous[1:] + 1, previous[:-1] + (codes != ord(char)))
        previous = np.minimum.accumulate(best - steps) + steps
    return int(previous[-1])


def normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", GARBAGE.sub("", text.replace("`", "")))
    return re.sub(r"\s+", " ", text).strip()


def words_missed(truth: str, got: str) -> float:
    """The share of the text layer's words (letters only) that the recognised text lacks, in any order: robust
    to reading order and to symbols the text layer maps wrongly."""
    found: dict[str, int] = {}
    for word in re.findall(r"[A-Za-z]{2,}", got):
        found[word.lower()] = found.get(word.lower(), 0) + 1
    words = [w.lower() for w in re.findall(r"[A-Za-z]{2,}", truth)]
    missed = 0
    for word in words:
        if found.get(word, 0) > 0:
            found[word] -= 1
        else:
            missed += 1
    return missed / max(1, len(words))


def scanned_copy(data: bytes, pages: list[int], dpi: int) -> bytes:
    """The chosen pages as pictures only (grey, `dpi`), on pages of the same size: what a scanner makes."""
    import pymupdf

    out = pymupdf.open()
    with pymupdf.open(stream=data, filetype="pdf") as doc:
        for number in pages:
            page = doc[number - 1]
            picture = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY).tobytes("png")
            new = out.new_page(width=page.rect.width, height=page.rect.height)
            new.insert_image(new.rect, stream=picture)
    return bytes(out.tobytes())


def text_pages(data: bytes, pages: list[int]) -> bytes:
    import pymupdf

    out = pymupdf.open()
    with pymupdf.open(stream=data, filetype="pdf") as doc:
        for number in pages:
            out.insert_pdf(doc, from_page=number - 1, to_page=number - 1)
    return bytes(out.tobytes())


def measure(name: str, data: bytes, pages: list[int], dpi: int) -> dict[str, object]:
    original = parse_pdf(text_pages(data, pages), name)
    scan = scanned_copy(data, pages, dpi)
    started = time.perf_counter()
    recognised = parse_with_ocr(scan, name, ParseLimits(), OcrLimits())
    seconds = time.perf_counter() - started
    per_page = []
    for truth_page, ocr_page in zip(original.pages, recognised.pages, strict=True):
        truth, got = normal(truth_page.text), normal(ocr_page.text)
        if len(truth) < 200:
            continue  # a near-empty page (a figure, a chapter's title) says little about recognition
        bare_truth, bare_got = truth.replace(" ", ""), got.replace(" ", "")
        per_page.append(
            {
                "page": pages[truth_page.number - 1],
                "chars": len(truth),
                "cer": round(edit_distance(truth, got) / len(truth), 4),
                "cer_without_spaces": round(edit_distance(bare_truth, bare_got) / len(bare_truth), 4),
                "words_missed": round(words_missed(truth, got), 4),
                "confidence": recognised.recognised_pages.get(truth_page.number),
            }
        )
    chars = sum(int(p["chars"]) for p in per_page)  # type: ignore[call-overload]
    return {
        "source": name,
        "pages": len(pages),
        "recognised": len(recognised.recognised_pages),
        "skipped": recognised.skipped_pages,
        "seconds": round(seconds, 1),
        "pages_per_s": round(len(pages) / seconds, 3),
        "cer": round(sum(float(p["cer"]) * int(p["chars"]) for p in per_page) / max(1, chars), 4),  # type: ignore[call-overload]
        "cer_without_spaces": round(
            sum(float(p["cer_without_spaces"]) * int(p["chars"]) for p in per_page) / max(1, chars),  # type: ignore[call-overload]
            4,
        ),
        "words_missed": round(
            sum(float(p["words_missed"]) * int(p["chars"]) for p in per_page) / max(1, chars),  # type: ignore[call-overload]
            4,
        ),
        "per_page": per_page,
    }


def _mean(runs: list[dict[str, object]], key: str) -> float:
    """The mean of `key` over the Erickson runs, weighted by their pages."""
    chosen = [r for r in runs if r["source"] != "sciq.pdf"]
    pages = sum(int(r["pages"]) for r in chosen)  # type: ignore[call-overload]
    return round(sum(float(r[key]) * int(r["pages"]) for r in chosen) / max(1, pages), 4)  # type: ignore[arg-type, call-overload]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--erickson-pages", type=int, default=8)
    parser.add_argument("--sciq-pages", type=int, default=3)
    parser.add_argument("--dpi", type=int, default=150, help="resolution of the scanned pictures")
    args = parser.parse_args()
    import pymupdf

    runs = []
    if args.sciq_pages:
        data = sciq_pdf(sciq()[:120])
        runs.append(measure("sciq.pdf", data, list(range(2, 2 + args.sciq_pages)), args.dpi))
    files = sorted(ERICKSON.glob("0[1-6]*.pdf"))
    per_file = max(1, args.erickson_pages // max(1, len(files)))
    picked = 0
    for path in files:
        if picked >= args.erickson_pages:
            break
        with pymupdf.open(path) as doc:
            count = doc.page_count
        # Pages from the chapter's middle: running text, pseudocode, figures and formulas as they come.
        pages = [max(2, count * (k + 1) // (per_file + 1)) for k in range(per_file)][: args.erickson_pages - picked]
        runs.append(measure(path.name, path.read_bytes(), pages, args.dpi))
        picked += len(pages)
    total_pages = sum(int(r["pages"]) for r in runs)  # type: ignore[call-overload]
    total_seconds = sum(float(r["seconds"]) for r in runs)  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "note": "timings under load (a shared 2-core machine); each run includes starting the OCR child",
                "dpi": args.dpi,
                "pages": total_pages,
                "pages_per_s": round(total_pages / total_seconds, 3),
                "seconds_per_page": round(total_seconds / total_pages, 2),
                "cer_sciq": next((r["cer"] for r in runs if r["source"] == "sciq.pdf"), None),
                "cer_erickson": _mean(runs, "cer"),
                "cer_without_spaces_erickson": _mean(runs, "cer_without_spaces"),
                "words_missed_sciq": next((r["words_missed"] for r in runs if r["source"] == "sciq.pdf"), None),
                "words_missed_erickson": _mean(runs, "words_missed"),
                "ocr_child_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
                "worker_side_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "runs": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
