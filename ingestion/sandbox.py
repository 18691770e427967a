"""PDF parsing in a child process with memory, CPU and text limits, so one hostile file cannot sink a worker.

A flate bomb (a small file whose page inflates to hundreds of MB) or a page that takes minutes to lay out fails
its job with `pdf_too_complex` or `pdf_timeout`; the worker only ever holds the parsed text it gets back.

Each file is parsed in a fork of a small parse server (`python -m ingestion.sandbox --serve`), started once per
worker process with the parser imported (importing PyMuPDF takes seconds). The worker itself never forks: it
has threads (ONNX Runtime, asyncio's pool) whose held locks a fork would copy, and a prefork pool's daemon
children may not start multiprocessing children; the server is single-threaded, so its forks are safe.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from ingestion.errors import IngestionError
from ingestion.pdf import Block, PageRead, ParsedDocument
from tutor.settings import Settings

TOO_COMPLEX = "pdf_too_complex"
TIMEOUT = "pdf_timeout"
# A page's content stream (or a form it draws) longer than this many bytes per allowed character is refused
# before layout: text costs a few bytes per character, and real pages with heavy vector drawings stay well under.
CONTENT_BYTES_PER_CHAR = 256
# Whatever the CPU limit, a child that sleeps or waits is stopped after this much wall time beyond it.
WALL_SLACK_S = 30.0
# From this many pages, two processes read a PDF's pages (see _read_in_two); below it a fork costs more than it saves.
TWO_READERS_FROM_PAGES = 16


@dataclass(frozen=True)
class ParseLimits:
    max_memory_mb: int = 2048
    max_cpu_s: int = 60
    max_chars_per_page: int = 200_000
    max_chars_per_file: int = 20_000_000
    max_pages: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseLimits:
        return cls(
            max_memory_mb=settings.parse_max_memory_mb,
            max_cpu_s=settings.parse_max_cpu_s,
            max_chars_per_page=settings.parse_max_chars_per_page,
            max_chars_per_file=settings.parse_max_chars_per_file,
            max_pages=settings.max_pages,
        )


@dataclass(frozen=True)
class _Request:
    data: bytes
    filename: str
    limits: ParseLimits
    ocr: dict[int, tuple[Block, ...]] | None = None  # text recognised on scanned pages (ingestion.ocr_sandbox)


@dataclass(frozen=True)
class _Failure:
    code: str
    message: str


def _too_complex(filename: str, why: str) -> IngestionError:
    return IngestionError(
        TOO_COMPLEX,
        f"{filename} is too complex to read safely ({why}); try exporting it again as a standard PDF "
        "(e.g. “Print to PDF”) or splitting it into smaller files",
    )


def _timeout(filename: str, seconds: int) -> IngestionError:
    return IngestionError(
        TIMEOUT,
        f"reading {filename} took longer than {seconds} s of processing, so it was stopped; try exporting it "
        "again as a standard PDF or splitting it into smaller files",
    )


@dataclass(frozen=True)
class _Died:
    """The parsing child ended without an answer: killed by a signal (negative) or an exit code."""

    code: int
    stderr_tail: str = ""


class ParseServer:
    """The worker's handle on its parse server: one request at a time, restarted when it dies or hangs."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "ingestion.sandbox", "--serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                start_new_session=True,  # its forks are killed with it, as one group
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
        return self._proc

    def kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def parse(self, request: _Request, timeout: float) -> object:
        with self._lock:
            for attempt in (1, 2):
                proc = self._ensure()
                assert proc.stdin is not None and proc.stdout is not None
                try:
                    _send(proc.stdin, request)
                    if not select.select([proc.stdout], [], [], timeout)[0]:
                        self.kill()
                        return _Died(-signal.SIGXCPU, "no answer in time")
                    return _receive(proc.stdout)
                except (BrokenPipeError, EOFError, pickle.UnpicklingError):
                    self.kill()  # the server itself died (killed from outside): start a new one, once
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")


_server = ParseServer()
atexit.register(_server.kill)


def start_parse_server() -> None:
    """Start this process's parse server ahead of the first file (a worker does it when it starts)."""
    with _server._lock:
        _server._ensure()


def parse_pdf_sandboxed(
    data: bytes, filename: str, limits: ParseLimits, ocr: dict[int, tuple[Block, ...]] | None = None
) -> ParsedDocument:
    """`ingestion.pdf.parse_pdf` in a child process under `limits`; IngestionError with a named reason on failure."""
    answer = _server.parse(_Request(data, filename, limits, ocr), timeout=limits.max_cpu_s + WALL_SLACK_S)
    if isinstance(answer, _Died):
        if answer.code in (-signal.SIGXCPU, -signal.SIGKILL):
            # SIGXCPU at the soft CPU limit, SIGKILL at the hard one (or from the kernel when memory ran out).
            raise (
                _timeout(filename, limits.max_cpu_s)
                if answer.code == -signal.SIGXCPU
                else _too_complex(filename, "the reader was stopped")
            )
        # Out of address space inside the C library's own allocator can end in an abort instead of an error.
        raise _too_complex(filename, f"the reader stopped ({answer.stderr_tail or answer.code})")
    if isinstance(answer, _Failure):
        raise IngestionError(answer.code, answer.message)
    assert isinstance(answer, ParsedDocument)
    return answer


def _send(stream: IO[bytes], value: object) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("!Q", len(payload)) + payload)
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError("the parse server closed its pipe")
        data += chunk
    return bytes(data)


def _receive(stream: IO[bytes]) -> object:
    (size,) = struct.unpack("!Q", _read_exactly(stream, 8))
    # Only our own parse server writes here; the PDF's content arrives as plain strings inside our dataclasses.
    return pickle.loads(_read_exactly(stream, size))


def _out_of_memory(exc: BaseException) -> bool:
    """MuPDF's allocation failures surface as its own errors, often behind our IngestionError's `from None`."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen).lower()
        if isinstance(seen, MemoryError) or ("alloc" in text and "failed" in text) or "out of memory" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _check_text(doc: ParsedDocument, limits: ParseLimits) -> None:
    total = 0
    for page in doc.pages:
        if len(page.text) > limits.max_chars_per_page:
            raise _too_complex(
                doc.filename, f"page {page.number} holds over {limits.max_chars_per_page:,} characters of text"
            )
        total += len(page.text)
    if total > limits.max_chars_per_file:
        raise _too_complex(doc.filename, f"it holds over {limits.max_chars_per_file:,} characters of text")


def _inflated_size(raw: bytes, cap: int) -> int:
    """Bytes a Flate stream inflates to, counting no further than past `cap` (a bomb is never inflated whole)."""
    inflater = zlib.decompressobj()
    size, data = 0, raw
    while data and size <= cap:
        size += len(inflater.decompress(data, 2**20))
        data = inflater.unconsumed_tail
    return size


def _check_content(data: bytes, filename: str, limits: ParseLimits) -> None:
    """Refuse page and form content streams too large to lay out, before the parser spends minutes on them.

    A text-showing operator takes a few bytes per character, so a stream over `content_bytes_per_char` times
    the page's character limit cannot stay within it. Streams the parser cannot read are left to it to report.
    """
    import pymupdf

    cap = limits.max_chars_per_page * CONTENT_BYTES_PER_CHAR
    try:
        doc: Any = pymupdf.open(stream=data, filetype="pdf")  # type: ignore[no-untyped-call]
    except Exception:
        return
    try:
        if doc.needs_pass:
            return
        pages = {xref: number for number, page in enumerate(doc, 1) for xref in page.get_contents()}
        for xref in range(1, doc.xref_length()):
            if not doc.xref_is_stream(xref):
                continue
            if xref not in pages and doc.xref_get_key(xref, "Subtype") != ("name", "/Form"):
                continue
            _, value = doc.xref_get_key(xref, "Filter")
            if value == "/FlateDecode":
                size = _inflated_size(doc.xref_stream_raw(xref), cap)
            else:
                size = len(doc.xref_stream(xref) or b"")
            if size > cap:
                where = f"page {pages[xref]}" if xref in pages else "a drawing it reuses"
                raise _too_complex(filename, f"{where} holds over {cap // 2**20} MB of drawing instructions")
    except IngestionError:
        raise
    except Exception:
        return  # damaged: the parser says how
    finally:
        doc.close()


def _limit(kind: int, value: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    # Hard CPU limit a little above the soft one: SIGXCPU first (a clean exit code), SIGKILL if ignored.
    resource.setrlimit(kind, (value, value + 5 if kind == resource.RLIMIT_CPU else value))


def _read_in_two(read: Callable[[int, int], list[PageRead]], count: int) -> list[PageRead]:
    """A long PDF's pages read by two processes: a fork of this parsing child reads the second half while this
    one reads the first (reading pages is most of a parse, and a worker's second core is otherwise idle then). The
    fork lives under the same limits; if it fails for any reason, this child reads its half as well, so that a
    failure is reported as one process would meet it."""
    if count < TWO_READERS_FROM_PAGES or len(os.sched_getaffinity(0)) < 2:
        return read(0, count)
    half = count // 2
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # safe: the parsing child is single-threaded
        os.close(read_end)
        code = 0
        try:
            with os.fdopen(write_end, "wb") as out:
                _send(out, read(half, count))
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        first = read(0, half)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        raise
    try:
        with os.fdopen(read_end, "rb") as pipe:
            second = _receive(pipe)
    except (EOFError, pickle.UnpicklingError, struct.error):
        second = None
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not isinstance(second, list):
        second = read(half, count)
    return first + second


def _parse_one(request: _Request) -> ParsedDocument | _Failure:
    """In the forked child, under its limits: the parsed document or a named failure."""
    limits = request.limits
    _limit(resource.RLIMIT_AS, limits.max_memory_mb * 2**20)
    _limit(resource.RLIMIT_CPU, limits.max_cpu_s)
    from ingestion.pdf import parse_pdf

    try:
        _check_content(request.data, request.filename, limits)
        answer = parse_pdf(
            request.data, request.filename, max_pages=limits.max_pages, ocr=request.ocr, pages_reader=_read_in_two
        )
        _check_text(answer, limits)
        return answer
    except MemoryError:
        return _Failure(TOO_COMPLEX, _too_complex(request.filename, "it needs too much memory").message)
    except IngestionError as exc:
        if _out_of_memory(exc):
            exc = _too_complex(request.filename, "it needs too much memory")
        return _Failure(exc.code, exc.message)
    except Exception as exc:
        if not _out_of_memory(exc):
            raise
        return _Failure(TOO_COMPLEX, _too_complex(request.filename, "it needs too much memory").message)


def _serve() -> None:
    """The parse server: for each request on stdin, a fork parses it and the answer goes to stdout."""
    import ingestion.pdf  # noqa: F401  (imported once here, inherited by every fork)

    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            request = _receive(requests)
        except EOFError:
            return  # the worker went away
        assert isinstance(request, _Request)
        read_end, write_end = os.pipe()
        # The child's stderr (MuPDF's warnings can be long) goes to a file: a pipe could fill and block it.
        errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed below, after the child is gone)
        pid = os.fork()
        if pid == 0:  # the child: parse, answer through the pipe, and leave without running any clean-up
            os.close(read_end)
            os.dup2(errors.fileno(), 2)
            code = 0
            try:
                with os.fdopen(write_end, "wb") as out:
                    _send(out, _parse_one(request))
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        errors.seek(0, os.SEEK_END)
        errors.seek(max(0, errors.tell() - 4000))
        stderr = errors.read().decode(errors="replace")
        errors.close()
        if code == 0 and len(payload) > 8:
            answers.write(payload)  # already framed by the child
            answers.flush()
        else:
            tail = stderr.strip().splitlines()[-1:]
            _send(answers, _Died(code, tail[0][:300] if tail else ""))


if __name__ == "__main__":
    # Through the module's own name, so what the server pickles is importable as ingestion.sandbox.* by the worker.
    from ingestion.sandbox import _serve as serve

    serve()
