"""A job whose worker is killed shows as stalled within seconds, is sent again at once (not after the broker's
hour), and another worker finishes it from the chunks already stored: none embedded twice, none duplicated."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.test_uploads import upload
from tests.factories import course_pdf, sciq_chapters
from tests.servers import tutor_worker
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


async def test_a_job_that_fails_as_worker_lost_leaves_no_half_built_course(
    settings: Settings, auth: Auth, sessions: async_sessionmaker[AsyncSession], db: object
) -> None:
    """Its only run dies mid-embedding (the run's task is cancelled: no heartbeat, no clean-up, as after a kill),
    with one attempt allowed: the API fails it as `worker_lost` and removes its course, stored file and chunks."""
    import asyncio

    from sqlalchemy import text

    from api.app import create_app
    from ingestion.pipeline import Ingestor
    from ingestion.storage import open_storage
    from tutor.embeddings import get_embedder
    from tutor.vectorstore import open_vector_store

    lost = settings.model_copy(
        update={
            "job_heartbeat_s": 0.5,
            "job_stalled_after_s": 2.0,
            "job_max_attempts": 1,
            "celery_queue": f"lost-{uuid.uuid4().hex[:6]}",  # no worker listens: the run below is the only one
        }
    )
    teacher = auth("teacher-lost", "teacher")
    app = create_app(lost)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=60) as api,
    ):
        # Earlier tests' stored files stay on disk: only this job's own file must go.
        earlier = set(lost.files_dir.glob("*/*.pdf"))
        accepted = await upload(api, teacher, ("lost.pdf", course_pdf(sciq_chapters(6, 3, 3))), title="Lost")
        assert accepted.status_code == 202, accepted.text
        job_id, course_id = accepted.json()["job_id"], accepted.json()["course_id"]
        store = open_vector_store(lost)
        ingestor = Ingestor(lost, sessions, open_storage(lost), store, get_embedder(lost))
        run = asyncio.create_task(ingestor.run(job_id))
        # Cancelled while its first batch embeds: well before the course is written (more than one batch to go).
        await _until(api, job_id, teacher, lambda j: "Embedding chunks 1-" in (j["message"] or ""), 120, "embedding")
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        assert (await api.get(f"/api/courses/{course_id}", headers=teacher)).status_code == 200  # half-built

        failed = await _until(api, job_id, teacher, lambda j: j["status"] == "failed", 30, "worker_lost")
        assert failed["result"]["error_code"] == "worker_lost"

        async def nothing_left() -> bool:
            async with sessions() as session:
                files = await session.scalar(
                    text("SELECT count(*) FROM source_files WHERE course_id = :c"), {"c": course_id}
                )
            course = await api.get(f"/api/courses/{course_id}", headers=teacher)
            return course.status_code == 404 and files == 0 and store.count(course_id) == 0

        deadline = time.monotonic() + 30
        while not await nothing_left():
            assert time.monotonic() < deadline, "the lost job's course, files or chunks are still there"
            await asyncio.sleep(0.2)
    assert not set((lost.files_dir / str(course_id)).glob("*.pdf")) - earlier  # the stored PDF is gone too
