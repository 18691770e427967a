"""`tutor backup` and `tutor restore`: a deployment round-trips through one archive, and answers as before."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from db import migrate
from db.engine import create_database, create_engine, drop_database, with_database
from tests.chat.sse import parse_sse
from tests.conftest import REPO, settings_env
from tests.factories import course_pdf, ingest_course, sciq_chapters, sciq_items
from tutor.settings import Settings

QUESTION_ITEM = 2


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=settings_env(settings),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def table_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            tables = (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            found = {}
            for table in sorted(tables):
                rows = (await conn.execute(text(f'SELECT * FROM "{table}"'))).all()
                found[table] = sorted((tuple(r) for r in rows), key=repr)
            found["sequences"] = [
                tuple(r)
                for r in await conn.execute(
                    text("SELECT sequencename, last_value FROM pg_sequences ORDER BY sequencename")
                )
            ]
            return found
    finally:
        await engine.dispose()


async def ask(
    settings: Settings, course_id: int, question: str, auth_headers: dict[str, str]
) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.post(
            "/api/chat/stream", headers=auth_headers, json={"course_id": course_id, "message": question}
        )
        assert response.status_code == 200, response.text
        return parse_sse(response.text)


def answered(events: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The answer's text and citations; a citation's signed source link carries its own expiry, so it is left out."""
    return [
        (name, {k: v for k, v in data.items() if k != "url"} if name == "citation" else data)
        for name, data in events
        if name in ("token", "citation")
    ]


@pytest.fixture
async def restored_settings(settings: Settings, pg_server_url: str, tmp_path: Path) -> AsyncIterator[Settings]:
    """Services as a fresh machine would have them: an empty database, data dir and index."""
    name = f"tutor_restore_{uuid.uuid4().hex[:8]}"
    await create_database(pg_server_url, name)
    yield settings.model_copy(
        update={
            "database_url": with_database(pg_server_url, name),
            "data_dir": tmp_path / "data",
            "chroma_path": tmp_path / "chroma",
        }
    )
    await drop_database(pg_server_url, name)


async def test_a_course_with_its_chats_progress_and_answers_round_trips_through_a_backup(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    db: AsyncEngine,
    auth,  # type: ignore[no-untyped-def]
    restored_settings: Settings,
    tmp_path: Path,
) -> None:
    course_id = await ingest_course(
        settings, sessions, [("biology.pdf", course_pdf(sciq_chapters(2, 2, 2)))], teacher="teacher-bk"
    )
    await client.patch(f"/api/courses/{course_id}", headers=auth("teacher-bk", "teacher"), json={"status": "active"})
    student = auth("student-bk")
    question = sciq_items()[QUESTION_ITEM]["question"]
    before = await ask(settings, course_id, question, student)
    course = (await client.get(f"/api/courses/{course_id}", headers=student)).json()
    quiz = course["modules"][0]["quizzes"][0]
    answers = {str(q["question_number"]): "A" for q in quiz["questions"]}
    taken = await client.post(f"/api/quizzes/{quiz['quiz_id']}/responses", headers=student, json={"answers": answers})
    assert taken.status_code in (200, 201), taken.text

    archive = tmp_path / "backups" / "tutor.tar.gz"
    made = cli(settings, "backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert "backed up" in made.stdout and archive.is_file()

    restored = cli(restored_settings, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr + restored.stdout

    source_url, target_url = settings.database_url, restored_settings.database_url
    assert source_url and target_url
    assert await table_rows(target_url) == await table_rows(source_url)
    assert await migrate.current_revision(target_url) == migrate.head()

    # The same question, asked of the restored services, gets the same answer and the same citations.
    after = await ask(restored_settings, course_id, question, student)
    assert answered(after) == answered(before)
    # ...and the uploaded file is served as it was.
    app = create_app(restored_settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as restored_client,
    ):
        listing = await restored_client.get(f"/api/files?course_id={course_id}", headers=auth("teacher-bk", "teacher"))
        file_id = listing.json()[0]["file_id"]
        original = await client.get(f"/api/files/{file_id}/download", headers=auth("teacher-bk", "teacher"))
        copy = await restored_client.get(f"/api/files/{file_id}/download", headers=auth("teacher-bk", "teacher"))
        assert copy.status_code == 200 and copy.content == original.content

    again = cli(restored_settings, "restore", str(archive))
    assert again.returncode == 1 and "already holds" in again.stderr


async def test_restore_refuses_what_is_not_a_backup(restored_settings: Settings, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.tar.gz"
    bogus.write_bytes(b"%PDF-1.4 not an archive")
    result = await asyncio.to_thread(cli, restored_settings, "restore", str(bogus))
    assert result.returncode == 1 and "not a tutor backup archive" in result.stderr
    missing = await asyncio.to_thread(cli, restored_settings, "restore", str(tmp_path / "nowhere.tar.gz"))
    assert missing.returncode == 1 and "no backup archive" in missing.stderr
