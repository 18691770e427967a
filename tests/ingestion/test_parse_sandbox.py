"""A hostile PDF fails its own job with a named reason; the real worker stays small and serves the next job."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime

import httpx
import psutil

from ingestion.pdf import parse_pdf
from ingestion.sandbox import TWO_READERS_FROM_PAGES, ParseLimits, parse_pdf_sandboxed
from tests.api.test_uploads import upload, wait_for_job
from tests.conftest import SHARED
from tests.factories import course_pdf, sciq_chapters
from tests.ingestion.hostile import flate_bomb
from tutor.settings import Settings

Auth = Callable[..., dict[str, str]]
MB = 2**20


class PeakRss:
    """The largest resident size a process (and, apart, its children) reached while sampled."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.children_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
                for child in self.process.children(recursive=True):
                    self.children_peak = max(self.children_peak, child.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def test_page_text_over_its_limit_is_refused_as_too_complex() -> None:
    pdf = course_pdf(sciq_chapters(1, 1, 2))
    limits = ParseLimits(max_chars_per_page=200)
    try:
        parse_pdf_sandboxed(pdf, "notes.pdf", limits)
    except Exception as exc:
        assert getattr(exc, "code", None) == "pdf_too_complex"
        assert "notes.pdf" in str(exc) and "200" in str(exc)
    else:
        raise AssertionError("a page over the text limit was parsed")
    assert parse_pdf_sandboxed(pdf, "notes.pdf", ParseLimits()).pages


def test_the_sandbox_names_the_errors_the_parser_raises() -> None:
    try:
        parse_pdf_sandboxed(b"not a pdf at all", "x.pdf", ParseLimits())
    except Exception as exc:
        assert getattr(exc, "code", None) == "not_a_pdf"
    else:
        raise AssertionError("a non-PDF was parsed")


def test_a_pdf_that_takes_longer_than_its_cpu_limit_fails_as_a_timeout_and_the_next_one_parses(
    settings: Settings,
) -> None:
    """A page of millions of text operators (24 MB, 90 kB compressed) under a 1-second CPU limit and text limits
    it fits: the parse is stopped by its CPU time, named `pdf_timeout`, and the parse server serves on."""
    tiny = settings.model_copy(
        update={"parse_max_cpu_s": 1, "parse_max_chars_per_page": 10**8, "parse_max_chars_per_file": 10**9}
    )
    slow = flate_bomb(24)  # about 3.5 s of CPU to lay out (1.2 s per 8 MB here)
    started = time.monotonic()
    try:
        parse_pdf_sandboxed(slow, "slow-notes.pdf", ParseLimits.from_settings(tiny))
    except Exception as exc:
        assert getattr(exc, "code", None) == "pdf_timeout", exc
        assert "slow-notes.pdf" in str(exc) and "1 s" in str(exc)
    else:
        raise AssertionError("a parse over its CPU limit finished")
    assert time.monotonic() - started < 30
    assert parse_pdf_sandboxed(course_pdf(sciq_chapters(1, 1, 2)), "notes.pdf", ParseLimits.from_settings(tiny)).pages


async def test_a_flate_bomb_fails_its_job_as_too_complex_and_the_worker_serves_the_next_job(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, worker: subprocess.Popen[bytes]
) -> None:
    teacher = auth(f"teacher-bomb-{uuid.uuid4().hex[:8]}", "teacher")  # its own hourly upload budget
    bomb = flate_bomb(400)
    assert len(bomb) < 2 * MB
    with PeakRss(worker.pid) as rss:
        started = time.monotonic()
        accepted = await upload(client, teacher, ("weekly-notes.pdf", bomb), title="Bombed")
        assert accepted.status_code == 202, accepted.text
        job = await wait_for_job(client, accepted.json()["job_id"], teacher, timeout=240)
        seconds_to_fail = time.monotonic() - started
    assert job["status"] == "failed", job
    assert job["result"]["error_code"] == "pdf_too_complex", job
    assert "weekly-notes.pdf" in job["error"] and "too complex" in job["error"]
    assert rss.peak < 1.5 * 1024 * MB
    ran = datetime.fromisoformat(job["completed_at"]) - datetime.fromisoformat(job["started_at"])
    print(
        f"\nflate bomb: failed {ran.total_seconds():.1f} s after the worker took it ({seconds_to_fail:.1f} s after "
        f"the upload, worker start-up included); worker peak RSS {rss.peak / MB:.0f} MB, "
        f"parser child peak RSS {rss.children_peak / MB:.0f} MB"
    )

    accepted = await upload(client, teacher, ("fine.pdf", course_pdf(sciq_chapters(1, 2, 2))), title="Fine")
    job = await wait_for_job(client, accepted.json()["job_id"], teacher)
    assert job["status"] == "completed", job
    assert worker.poll() is None  # the same worker process did both


def test_a_long_pdf_read_by_two_processes_parses_as_in_one() -> None:
    """Past TWO_READERS_FROM_PAGES a fork reads the second half of the pages: the result is the same document."""
    data = (SHARED / "data" / "erickson_algorithms" / "01-recursion.pdf").read_bytes()
    alone = parse_pdf(data, "recursion.pdf")
    assert alone.page_count >= 2 * TWO_READERS_FROM_PAGES
    shared = parse_pdf_sandboxed(data, "recursion.pdf", ParseLimits())
    assert shared.pages == alone.pages
    assert shared.sections == alone.sections


def test_a_slow_page_in_the_second_half_still_stops_the_parse_as_a_timeout(settings: Settings) -> None:
    import pymupdf

    tiny = settings.model_copy(
        update={"parse_max_cpu_s": 1, "parse_max_chars_per_page": 10**8, "parse_max_chars_per_file": 10**9}
    )
    book = pymupdf.open(stream=course_pdf(sciq_chapters(5, 4, 5)), filetype="pdf")
    with pymupdf.open(stream=flate_bomb(24), filetype="pdf") as slow:
        book.insert_pdf(slow)  # the last page: read by the fork
    assert book.page_count >= TWO_READERS_FROM_PAGES
    try:
        parse_pdf_sandboxed(book.tobytes(), "slow-book.pdf", ParseLimits.from_settings(tiny))
    except Exception as exc:
        assert getattr(exc, "code", None) == "pdf_timeout", exc
    else:
        raise AssertionError("a parse over its CPU limit finished")
