"""A dependency that is down is named in a 503 (or an SSE `error` event), never a 500 or a dropped stream, and
the chat works again by itself when it is back: a Chroma server, PostgreSQL and Redis stopped and restarted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from db import migrate
from db.embedded import EmbeddedPostgres
from db.engine import create_database, create_engine, session_factory, with_database
from ingestion.embedded_redis import EmbeddedRedis
from tests.chat.sse import parse_sse
from tests.factories import course_pdf, ingest_course, sciq_chapters
from tests.servers import CHROMA, ChromaServer
from tutor.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMA is None, reason="the chroma CLI is not installed")]
Auth = Callable[..., dict[str, str]]


@dataclass
class Deployment:
    chroma: ChromaServer
    postgres: EmbeddedPostgres
    redis: EmbeddedRedis
    settings: Settings
    course_id: int


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("deps")
    chroma = ChromaServer(root / "chroma")
    postgres = EmbeddedPostgres(root / "pg")
    redis = EmbeddedRedis(root / "redis")
    try:  # started inside: one that fails to start leaves none of the others running
        chroma.start()
        postgres.start()
        redis.start()
        asyncio.run(create_database(postgres.url(), "tutor"))
        url = with_database(postgres.url(), "tutor")
        migrate.upgrade(url)
        ours = settings.model_copy(
            update={"database_url": url, "chroma_url": chroma.url, "redis_url": redis.url, "data_dir": root / "data"}
        )

        async def build() -> int:
            engine = create_engine(url)
            try:
                return await ingest_course(
                    ours, session_factory(engine), [("cells.pdf", course_pdf(sciq_chapters(2, 2, 2)))]
                )
            finally:
                await engine.dispose()

        yield Deployment(chroma, postgres, redis, ours, asyncio.run(build()))
    finally:
        chroma.stop()
        redis.stop()
        postgres.stop()


@pytest.fixture
async def api(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    from api.app import create_app

    app = create_app(deployment.settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://tutor.test", timeout=60) as client:
            yield client


async def _ask(api: httpx.AsyncClient, headers: dict[str, str], course_id: int) -> tuple[int, str, list[str]]:
    """(status, error code or "", SSE event names) of one chat turn."""
    r = await api.post(
        "/api/chat/stream", json={"course_id": course_id, "message": "What is osmosis?"}, headers=headers
    )
    if r.status_code != 200:
        return r.status_code, r.json()["error"]["code"], []
    events = parse_sse(r.text)
    names = [n for n, _ in events]
    error = next((d["code"] for n, d in events if n == "error"), "")
    return 200, error, names


async def _recovers(api: httpx.AsyncClient, headers: dict[str, str], course_id: int, timeout: float = 60) -> float:
    started = time.monotonic()
    while True:
        status, code, names = await _ask(api, headers, course_id)
        assert status in (200, 503), (status, code)  # never a 500 on the way back
        if status == 200 and names[-1] == "done":
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, f"still failing: {status} {code}"
        await asyncio.sleep(0.5)


async def test_chroma_down_is_a_named_503_and_the_chat_recovers_when_it_is_back(
    api: httpx.AsyncClient, deployment: Deployment, auth: Auth
) -> None:
    student = auth("student-deps")
    assert (await _ask(api, student, deployment.course_id))[2][-1] == "done"
    deployment.chroma.stop()
    try:
        for _ in range(5):
            status, code, _names = await _ask(api, student, deployment.course_id)
            assert (status, code) == (503, "vector_store_unavailable")
        ready = await api.get("/readyz")
        assert ready.status_code == 503 and "vector_store" in ready.json()["error"]["message"]
    finally:
        deployment.chroma.start()
    print(f"\nchat answering again {await _recovers(api, student, deployment.course_id):.1f} s after chroma is back")


async def test_database_down_is_a_named_503_and_the_chat_recovers_when_it_is_back(
    api: httpx.AsyncClient, deployment: Deployment, auth: Auth
) -> None:
    student = auth("student-deps-db")
    assert (await _ask(api, student, deployment.course_id))[2][-1] == "done"
    deployment.postgres.stop()
    try:
        for _ in range(3):
            status, code, names = await _ask(api, student, deployment.course_id)
            assert (status, code) == (503, "database_unavailable"), (status, code, names)
        jobs = await api.get("/api/jobs", headers=auth("teacher-deps", "teacher"))
        assert jobs.status_code == 503 and jobs.json()["error"]["code"] == "database_unavailable"
    finally:
        deployment.postgres.start()
    print(f"\nchat answering again {await _recovers(api, student, deployment.course_id):.1f} s after postgres is back")


async def test_with_redis_down_the_chat_still_answers_and_only_uploads_are_refused_by_name(
    api: httpx.AsyncClient, deployment: Deployment, auth: Auth
) -> None:
    """Redis is the job queue's broker: students keep their tutor while it is down (rate limits are counted in
    the process meanwhile); what needs the queue answers a named 503."""
    student = auth("student-deps-redis")
    assert (await _ask(api, student, deployment.course_id))[2][-1] == "done"
    deployment.redis.stop()
    try:
        for _ in range(3):
            status, code, names = await _ask(api, student, deployment.course_id)
            assert (status, code, names[-1:]) == (200, "", ["done"])
        pdf = course_pdf(sciq_chapters(1, 1, 1, offset=30))
        refused = await api.post(
            "/api/upload-pdfs",
            headers=auth("teacher-deps-redis", "teacher"),
            data={"title": "No queue"},
            files=[("files", ("q.pdf", pdf, "application/pdf"))],
        )
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "queue_unavailable", refused.text
        ready = await api.get("/readyz")
        assert ready.status_code == 503 and "broker" in ready.json()["error"]["message"]
    finally:
        deployment.redis.start()
    await _recovers(api, student, deployment.course_id)
