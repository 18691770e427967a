"""An LRS (Ralph) started for the session, an app that records xAPI statements to it, and a worker that delivers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.conftest import REPO, empty_tables, settings_env
from tests.xapi.lrs import PASSWORD, USERNAME, Ralph, ralph_python
from tutor.settings import Settings

TUTOR_URL = "https://tutor.school.test"


@pytest.fixture(scope="session")
def ralph(tmp_root: Path) -> Iterator[Ralph]:
    lrs = Ralph(ralph_python(), tmp_root / "ralph")
    lrs.start()
    yield lrs
    lrs.stop()


@pytest.fixture(scope="module")
def xapi_settings(settings: Settings, ralph: Ralph) -> Settings:
    # Retries within a second, so a test sees a delivery soon after the LRS is back.
    return settings.model_copy(
        update={
            "public_url": TUTOR_URL,
            "xapi_endpoint": ralph.endpoint,
            "xapi_username": USERNAME,
            "xapi_password": PASSWORD,
            "outbox_sweep_s": 0.2,
            "outbox_retry_s": 0.2,
            "outbox_retry_max_s": 0.5,
        }
    )


@pytest.fixture(scope="module")
def delivery(xapi_settings: Settings, tmp_root: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real `tutor worker` with the LRS configured: it delivers as soon as a transaction with statements commits,
    and sweeps for retries. Started without waiting for it: it boots while the course is built."""
    log = (tmp_root / "xapi-worker.log").open("wb")
    # A queue of its own: this worker is here for the outbox, not for the session's ingestion jobs.
    env = settings_env(xapi_settings.model_copy(update={"celery_queue": f"{xapi_settings.celery_queue}-xapi"}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker", "--name", f"xapi-{os.getpid()}@localhost"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    yield proc
    proc.kill()  # its work is checked: a warm shutdown would only cost the suite seconds
    proc.wait()
    log.close()


@pytest.fixture(scope="module")
async def xapi_client(xapi_settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    from api.app import create_app

    app = create_app(xapi_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tutor.test") as client:
            yield client
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE outbox_messages"))


@pytest.fixture(scope="module")
async def course(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> AsyncIterator[int]:
    """A one-week course built by the real pipeline (its quiz written offline): its id."""
    from tests.factories import course_pdf, ingest_course, sciq_chapters

    course_id = await ingest_course(settings, sessions, [("cells.pdf", course_pdf(sciq_chapters(1, 2, 2)))])
    yield course_id
    await empty_tables(engine)
    from tutor.vectorstore import open_vector_store

    open_vector_store(settings).delete_course(course_id)
