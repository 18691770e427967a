"""A job whose worker is killed shows as stalled within seconds, is sent again at once (not after the broker's
hour), and another worker finishes it from the chunks already stored: none embedded twice, none duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.api.test_uploads import upload
from tests.conftest import REPO, settings_env
from tests.factories import course_pdf, sciq_chapters
from tutor.settings import Settings

pytestmark = pytest.mark.slow
Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
def quick(settings: Settings) -> Settings:
    """Heartbeats every second; a job silent for 4 s is stalled. A queue of its own: only this test's workers."""
    return settings.model_copy(
        update={"job_heartbeat_s": 1.0, "job_stalled_after_s": 4.0, "celery_queue": f"stall-{uuid.uuid4().hex[:6]}"}
    )


@pytest.fixture
async def api(quick: Settings, db) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    from api.app import create_app

    app = create_app(quick)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tutor.test", timeout=60) as client:
            yield client


@contextmanager
def tutor_worker(settings: Settings, name: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker", "--name", name],
            env=settings_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


async def _job(api: httpx.AsyncClient, job_id: str, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    return (await api.get(f"/api/jobs/{job_id}", headers=headers)).json()  # type: ignore[no-any-return]


async def _until(api: httpx.AsyncClient, job_id: str, headers: dict[str, str], ok, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        job = await _job(api, job_id, headers)
        if ok(job):
            return job
        assert time.monotonic() < deadline, f"no {what} after {timeout} s: {job}"
        import asyncio

        await asyncio.sleep(0.1)


async def test_a_killed_workers_job_is_shown_stalled_and_another_worker_finishes_it_without_duplicates(
    api: httpx.AsyncClient, quick: Settings, auth: Auth, tmp_path: Path
) -> None:
    from tutor.vectorstore import open_vector_store

    teacher = auth("teacher-stalled", "teacher")
    big = course_pdf(sciq_chapters(12, 4, 3), title="Long notes")
    with tutor_worker(quick, "worker-a@test", tmp_path / "a.log") as a:
        accepted = await upload(api, teacher, ("long.pdf", big), title="Long")
        assert accepted.status_code == 202, accepted.text
        job_id, course_id = accepted.json()["job_id"], accepted.json()["course_id"]
        store = open_vector_store(quick)
        # Killed once some chunks are stored and more are still to embed.
        await _until(
            api, job_id, teacher, lambda j: "Embedding chunks" in (j["message"] or "") and store.count(course_id) > 0,
            180, "chunks stored",
        )  # fmt: skip
        running = await _job(api, job_id, teacher)
        assert running["worker"] == "worker-a@test"
        stored_before = store.count(course_id)
        os.kill(a.pid, signal.SIGKILL)
        killed = time.monotonic()
        a.wait(10)

    stalled = await _until(api, job_id, teacher, lambda j: j["status"] == "stalled", 60, "stalled status")
    seconds_to_stalled = time.monotonic() - killed
    assert "worker-a@test" in stalled["message"]

    with tutor_worker(quick, "worker-b@test", tmp_path / "b.log"):
        done = await _until(api, job_id, teacher, lambda j: j["status"] in ("completed", "failed"), 300, "the end")
    assert done["status"] == "completed", done
    assert done["attempts"] == 2
    chunks = done["result"]["chunks"]
    assert open_vector_store(quick).count(course_id) == chunks  # every chunk once
    assert 0 < stored_before <= done["result"]["resumed_chunks"] < chunks  # resumed, not embedded again
    print(
        f"\nstalled {seconds_to_stalled:.1f} s after the kill; {stored_before} of {chunks} chunks kept from the "
        f"first run; resumed run took {done['result']['seconds']}"
    )
