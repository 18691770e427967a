"""Shared fixtures: real PostgreSQL, Redis and Chroma; the configured ones or embedded ones."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import migrate
from db.embedded import EmbeddedPostgres
from db.engine import create_database, create_engine, drop_database, session_factory, with_database
from ingestion.embedded_redis import EmbeddedRedis
from tutor.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TABLES = (
    "chat_history, user_progress, source_files, job_queue, quiz_responses, quiz_questions, quizzes, "
    "topics, modules, courses, users"
)


def poll(predicate, *, timeout: float, interval: float = 0.05, message: str = "condition"):  # type: ignore[no-untyped-def]
    """Wait for work by polling with a deadline, never by sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tutor")


@pytest.fixture(scope="session")
def pg_server_url(tmp_root: Path) -> Iterator[str]:
    """A PostgreSQL server URL (its `postgres` database): TUTOR_TEST_DATABASE_URL, else embedded."""
    configured = os.environ.get("TUTOR_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    server = EmbeddedPostgres(tmp_root / "pg")
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database for this test session, migrated to head, dropped afterwards."""
    name = f"tutor_test_{uuid.uuid4().hex[:8]}"
    asyncio.run(create_database(pg_server_url, name))
    url = with_database(pg_server_url, name)
    migrate.upgrade(url)
    try:
        yield url
    finally:
        asyncio.run(drop_database(pg_server_url, name))


@pytest.fixture(scope="session")
def redis_url(tmp_root: Path) -> Iterator[str]:
    configured = os.environ.get("TUTOR_TEST_REDIS_URL")
    if configured:
        yield _per_test_process(configured)
        return
    server = EmbeddedRedis(tmp_root / "redis")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _per_test_process(redis_url: str) -> str:
    """Under pytest-xdist each test process gets its own Redis database: rate limits and visitor counts are keyed by
    course ids, which every process's own PostgreSQL database numbers from 1."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return redis_url
    parts = urlsplit(redis_url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(number + 1 + int(worker[2:])) % 16}"))


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str, tmp_root: Path) -> Settings:
    # A queue of its own, so a shared Redis never hands our jobs to another run's worker.
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_root / "data",
        chroma_path=tmp_root / "chroma",
        llm_provider="extractive",
        celery_queue=f"test-{uuid.uuid4().hex[:8]}",
        jwt_secret=f"test-secret-{uuid.uuid4().hex}",
    )


@pytest.fixture(scope="session")
def auth(settings: Settings):  # type: ignore[no-untyped-def]
    """`auth("alice", "teacher")` → headers with a bearer token for that user."""
    from tutor.identity import mint_token

    def headers(user_id: str, role: str = "student") -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(settings, user_id, role)}"}  # type: ignore[arg-type]

    return headers


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"TUTOR_{name.upper()}"] = str(value)
    return env


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


async def empty_tables(engine: AsyncEngine) -> None:
    """Every course, user and what hangs off them emptied (CASCADE); ids are not restarted (see `db`).
    A worker may still be finishing an earlier test's job: when PostgreSQL picks the TRUNCATE as a deadlock's
    victim, it is tried again (the worker's transaction has gone by then)."""
    for attempt in range(5):
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {TABLES}, quiz_attempts CASCADE"))
            return
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != "40P01" or attempt == 4:
                raise


@pytest.fixture
async def db(engine: AsyncEngine, settings: Settings) -> AsyncIterator[AsyncEngine]:
    """A clean slate: every table emptied after the test, and the course indexes with them. Ids are not restarted:
    a worker still finishing an earlier test's background work (a job, a course's sentence vectors) must never
    find a new course under its old id."""
    yield engine
    await empty_tables(engine)
    if settings.resolved_chroma_path.exists():
        from tutor.vectorstore import open_vector_store

        client = open_vector_store(settings).client
        for collection in client.list_collections():
            client.delete_collection(collection.name if hasattr(collection, "name") else str(collection))


@pytest.fixture(scope="session")
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from api.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tutor.test") as client:
            yield client


@pytest.fixture
async def client(app_client: httpx.AsyncClient, db: AsyncEngine) -> httpx.AsyncClient:
    # A cookie session now signs the JSON API in too: no test inherits the previous one's sign-in.
    app_client.cookies.clear()
    return app_client


@pytest.fixture(scope="session")
def worker(settings: Settings, tmp_root: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on this session's queue."""
    log = (tmp_root / "worker.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        env=settings_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
