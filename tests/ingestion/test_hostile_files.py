"""Hostile files, generated here: each is refused at upload or fails its job with a named reason, never a server
error; the API stays ready after each, and the real worker stays under 1.5 GB throughout."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.api.test_uploads import upload, wait_for_job
from tests.factories import course_pdf, encrypted_pdf, image_only_pdf, sciq_chapters
from tests.ingestion.hostile import corrupted, deep_nesting, flate_bomb, many_pages, script_in_metadata
from tests.ingestion.test_parse_sandbox import MB, PeakRss
from tutor.settings import Settings

pytestmark = pytest.mark.slow
Auth = Callable[..., dict[str, str]]


def _hostile() -> list[tuple[str, str, bytes]]:
    """(kind, file name, bytes)."""
    text_pdf = course_pdf(sciq_chapters(1, 2, 2, offset=40), title="Plain notes")
    return [
        ("not a pdf", "notes.pdf", b"<html><body>this is a web page</body></html>\n" * 50),
        ("empty", "empty.pdf", b""),
        ("truncated", "cut.pdf", text_pdf[: len(text_pdf) // 2]),
        ("encrypted", "locked.pdf", encrypted_pdf()),
        ("flate bomb", "bomb.pdf", flate_bomb(400)),
        ("thousands of pages", "long.pdf", many_pages(3000)),
        ("deep nesting", "nested.pdf", deep_nesting()),
        *[(f"corrupted bytes #{seed}", f"corrupt-{seed}.pdf", corrupted(text_pdf, seed)) for seed in range(3)],
        ("image only", "scan.pdf", image_only_pdf()),
        ("path in its name", "../../../etc/passwd.pdf", text_pdf),
        ("script in its metadata", '<script>alert("x")</script>.pdf', script_in_metadata(text_pdf)),
    ]


async def _ready(client: httpx.AsyncClient, timeout: float = 30) -> bool:
    """Ready within `timeout` (its checks time out at 3 s each; the loaded test machine can be that slow once)."""
    deadline = time.monotonic() + timeout
    while (await client.get("/readyz")).status_code != 200:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def test_hostile_files_are_refused_or_fail_with_a_named_reason_and_nothing_breaks(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, worker: subprocess.Popen[bytes]
) -> None:
    teacher = auth(f"teacher-hostile-{uuid.uuid4().hex[:8]}", "teacher")  # its own hourly upload budget
    outcomes: dict[str, str] = {}
    with PeakRss(worker.pid) as rss:
        for kind, name, data in _hostile():
            response = await upload(client, teacher, (name, data), title=f"Hostile: {kind}")
            assert response.status_code < 500, (kind, response.status_code, response.text)
            if response.status_code != 202:
                code = response.json()["error"]["code"]
                assert code and code != "internal_error", (kind, response.text)
                outcomes[kind] = f"refused at upload: {code}"
            else:
                job = await wait_for_job(client, response.json()["job_id"], teacher, timeout=240)
                assert job["status"] in ("completed", "failed"), (kind, job)
                if job["status"] == "failed":
                    code = job["result"]["error_code"]
                    assert code not in ("internal_error", "worker_lost"), (kind, job)
                    outcomes[kind] = f"failed: {code}"
                else:
                    outcomes[kind] = "ingested"
            assert await _ready(client), f"the API is not ready after {kind}"
            assert worker.poll() is None, f"the worker died on {kind}"
    print("\n" + "\n".join(f"  {kind}: {outcome}" for kind, outcome in outcomes.items()))
    print(f"  worker peak RSS {rss.peak / MB:.0f} MB, parser child peak {rss.children_peak / MB:.0f} MB")
    assert rss.peak < 1.5 * 1024 * MB

    # What must be refused or fail, by name; the rest may be readable enough to ingest.
    assert outcomes["not a pdf"] == "refused at upload: not_a_pdf"
    assert outcomes["empty"].startswith("refused at upload")
    assert outcomes["truncated"] == "refused at upload: corrupt_pdf"
    assert outcomes["encrypted"] == "refused at upload: encrypted_pdf"
    assert outcomes["flate bomb"] == "failed: pdf_too_complex"
    assert outcomes["thousands of pages"] == "refused at upload: too_many_pages"
    assert outcomes["image only"] == "failed: empty_pdf"
    # Names are data, never paths: nothing was written outside the files directory.
    assert outcomes["path in its name"] == "ingested"
    assert not (Path(settings.files_dir).parent / "etc").exists()
    assert all(p.resolve().is_relative_to(settings.files_dir.resolve()) for p in settings.files_dir.rglob("*"))
