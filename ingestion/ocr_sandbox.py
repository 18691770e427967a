"""Scanned pages recognised in a child process of their own, and the PDF read again with what it recognised.

The recognizer (ONNX Runtime with two models) reserves more address space than the parse sandbox allows
(about 2.2 GB at its peak against 2 GB), and takes seconds per page where parsing takes milliseconds, so it
gets its own limits: `ocr_max_memory_mb` of address space and `ocr_max_cpu_s_per_page` CPU seconds per page.
The child answers page by page: when it is stopped, the pages it finished are kept and the others are skipped
with the reason. It is started only for a PDF that has scanned pages; a text PDF never pays for it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ingestion.errors import IngestionError
from ingestion.ocr import PageOcr, recognise
from ingestion.pdf import Block, ParsedDocument
from ingestion.sandbox import ParseLimits, _limit, _receive, _send, parse_pdf_sandboxed
from tutor.settings import Settings

STARTUP_CPU_S = 30  # the interpreter, PyMuPDF, ONNX Runtime and the models, before the first page
WALL_FACTOR = 2.0  # a loaded machine stretches wall time past CPU time; a child that waits is stopped after this


@dataclass(frozen=True)
class OcrLimits:
    max_memory_mb: int = 4096
    max_cpu_s_per_page: int = 60
    threads: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> OcrLimits | None:
        """The limits, or None when OCR is turned off."""
        if not settings.ocr:
            return None
        return cls(settings.ocr_max_memory_mb, settings.ocr_max_cpu_s_per_page, max(1, min(2, os.cpu_count() or 1)))

    def cpu_s(self, pages: int) -> int:
        return STARTUP_CPU_S + self.max_cpu_s_per_page * pages


@dataclass(frozen=True)
class _OcrRequest:
    data: bytes
    pages: tuple[int, ...]
    limits: OcrLimits


def recognise_sandboxed(data: bytes, pages: list[int], limits: OcrLimits) -> dict[int, PageOcr]:
    """Each page's recognised text (or why it has none), from a child process under `limits`."""
    results: dict[int, PageOcr] = {}
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed below; a pipe could fill and block the child)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingestion.ocr_sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        start_new_session=True,  # killed as one group with whatever it starts
        env={**os.environ, "OMP_NUM_THREADS": str(limits.threads)},
    )
    assert proc.stdin is not None and proc.stdout is not None
    deadline = time.monotonic() + WALL_FACTOR * limits.cpu_s(len(pages))
    timed_out = False
    try:
        _send(proc.stdin, _OcrRequest(data, tuple(pages), limits))
        proc.stdin.close()
        while len(results) < len(pages):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([proc.stdout], [], [], remaining)[0]:
                timed_out = True
                break
            answer = _receive(proc.stdout)
            assert isinstance(answer, PageOcr)
            results[answer.page] = answer
    except (EOFError, BrokenPipeError):
        pass  # the child died: its exit status says why
    finally:
        if not timed_out:  # a child that closed its output is exiting: its status says why
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        code = proc.wait()
        errors.seek(max(0, errors.seek(0, os.SEEK_END) - 2000))
        tail = errors.read().decode(errors="replace").strip().splitlines()[-1:]
        errors.close()
    if len(results) < len(pages):
        why = _why_stopped(code, timed_out, limits, tail[0][:200] if tail else "")
        results.update({p: PageOcr(p, skipped=f"text recognition stopped: {why}") for p in pages if p not in results})
    return results


def _why_stopped(code: int, timed_out: bool, limits: OcrLimits, stderr: str) -> str:
    if timed_out or code == -signal.SIGXCPU:
        return f"over its time limit ({limits.max_cpu_s_per_page} CPU s a page)"
    # Out of address space shows as a failed allocation, or as a library that cannot be mapped while importing.
    if code == -signal.SIGKILL or any(w in stderr.lower() for w in ("memory", "alloc", "map segment")):
        return f"over its memory limit ({limits.max_memory_mb} MB)"
    return f"the recognizer failed ({stderr or code})"


def parse_with_ocr(
    data: bytes,
    filename: str,
    parse_limits: ParseLimits,
    ocr_limits: OcrLimits | None,
    *,
    on_ocr: Callable[[int], None] | None = None,
) -> ParsedDocument:
    """The PDF parsed in its sandbox; its scanned pages recognised (unless `ocr_limits` is None: OCR off) and the
    PDF parsed again with their text in place, so their headings, columns and paragraphs are found as for text.
    The document's `scanned_pages` are then the pages left without text, `skipped_pages` says why of each."""
    doc = parse_pdf_sandboxed(data, filename, parse_limits)
    skipped = dict(doc.skipped_pages)
    if doc.scanned_pages and ocr_limits is None:
        skipped.update(dict.fromkeys(doc.scanned_pages, "text recognition (OCR) is turned off"))
    elif doc.scanned_pages and ocr_limits is not None:
        if on_ocr is not None:
            on_ocr(len(doc.scanned_pages))
        results = recognise_sandboxed(data, doc.scanned_pages, ocr_limits)
        skipped.update({p: r.skipped for p, r in results.items() if r.skipped})
        recognised: dict[int, tuple[Block, ...]] = {p: r.blocks for p, r in results.items() if r.blocks}
        if recognised:
            doc = parse_pdf_sandboxed(data, filename, parse_limits, ocr=recognised)
    if not doc.sections:
        why = f" (page {min(skipped)}: {skipped[min(skipped)]})" if skipped else ""
        raise IngestionError(
            "empty_pdf",
            f"the PDF has no text layer and no text could be recognised on its {len(skipped)} page(s) without "
            f"one{why}; upload a text PDF or a clearer scan",
        )
    return replace(doc, scanned_pages=sorted(skipped), skipped_pages=skipped)


def scanned_notes(doc: ParsedDocument) -> list[str]:
    """What the teacher should know about a document's scanned pages: how many were recognised, which were not."""
    notes = []
    if doc.recognised_pages:
        confidence = sum(doc.recognised_pages.values()) / len(doc.recognised_pages)
        notes.append(
            f"{doc.filename}: {_pages(len(doc.recognised_pages))} recognised by OCR "
            f"(mean confidence {confidence:.2f}): {_numbers(list(doc.recognised_pages))}"
        )
    by_reason: dict[str, list[int]] = {}
    for page, reason in sorted(doc.skipped_pages.items()):
        by_reason.setdefault(reason, []).append(page)
    notes += [
        f"{doc.filename}: {_pages(len(pages))} without text skipped ({reason}): {_numbers(pages)}"
        for reason, pages in by_reason.items()
    ]
    return notes


def _pages(count: int) -> str:
    return f"{count} page" if count == 1 else f"{count} pages"


def _numbers(pages: list[int]) -> str:
    shown = ", ".join(str(p) for p in pages[:20])
    return shown + (f" and {len(pages) - 20} more" if len(pages) > 20 else "")


def _serve_one() -> None:
    """The child: one request on stdin, each page's result on stdout as soon as it is recognised."""
    request = _receive(sys.stdin.buffer)
    assert isinstance(request, _OcrRequest)
    limits = request.limits
    _limit(resource.RLIMIT_AS, limits.max_memory_mb * 2**20)
    _limit(resource.RLIMIT_CPU, limits.cpu_s(len(request.pages)))
    out = sys.stdout.buffer
    for page in recognise(request.data, request.pages, threads=limits.threads):
        _send(out, page)


if __name__ == "__main__":
    # Through the module's own name, so what the child pickles is importable as ingestion.ocr.* by the worker.
    from ingestion.ocr_sandbox import _serve_one as serve

    serve()
