"""A course's source files: downloads under any name, a missing stored copy, deletes that keep rows, files and
index chunks in step."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ingestion.storage import open_storage
from tests.api.test_uploads import upload
from tests.factories import course_pdf, ingest_course, sciq_chapters
from tutor.settings import Settings
from tutor.vectorstore import collection_name, open_vector_store

Auth = Callable[..., dict[str, str]]
NAME = 'Übung \u2013 課程 "x".pdf'  # with an en dash, as a word processor writes it


async def stored_file(engine: AsyncEngine, course_id: int) -> tuple[str, str]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT file_id, file_path FROM source_files WHERE course_id = :c"), {"c": course_id}
            )
        ).one()
    return str(row[0]), str(row[1])


def chunks_of(settings: Settings, course_id: int, file_id: str | None = None) -> int:
    client = open_vector_store(settings).client
    try:
        collection = client.get_collection(collection_name(course_id))
    except Exception:
        return 0
    return len(collection.get(where={"file_id": file_id} if file_id else None)["ids"])


@pytest.fixture
async def teacher_id(db: AsyncEngine) -> str:
    return f"teacher-files-{uuid.uuid4().hex[:6]}"


@pytest.fixture
async def ingested(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], teacher_id: str
) -> AsyncIterator[tuple[int, bytes]]:
    data = course_pdf(sciq_chapters(1, 2, 1, offset=40))
    yield await ingest_course(settings, sessions, [(NAME, data)], teacher=teacher_id), data


async def refer_to(engine: AsyncEngine, table: str, column: str, target: str, value: object) -> None:
    """A row in a table of the test's own that still refers to `value` when a delete commits: PostgreSQL checks
    the deferred foreign key at COMMIT and refuses it, as it would for any row written meanwhile."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"CREATE TABLE {table} ({column} {'integer' if isinstance(value, int) else 'varchar(100)'} "
                f"REFERENCES {target} DEFERRABLE INITIALLY DEFERRED)"
            )
        )
        await conn.execute(text(f"INSERT INTO {table} VALUES (:v)"), {"v": value})


async def drop(engine: AsyncEngine, table: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))


def filename_of(header: str) -> str:
    """The name a browser saves a download under."""
    kind, *params = (part.strip() for part in header.split(";"))
    named = dict(param.split("=", 1) for param in params)
    assert kind == "attachment"
    charset, language, encoded = named["filename*"].split("'", 2)
    assert (charset, language) == ("UTF-8", "")
    return unquote(encoded, encoding="utf-8", errors="strict")


async def test_a_file_named_in_any_script_downloads_under_its_own_name(
    client: httpx.AsyncClient, auth: Auth, db: AsyncEngine, ingested: tuple[int, bytes], teacher_id: str
) -> None:
    course_id, data = ingested
    teacher = auth(teacher_id, "teacher")
    listed = (await client.get("/api/files", params={"course_id": course_id}, headers=teacher)).json()
    assert [f["filename"] for f in listed] == [NAME]  # stored as given

    response = await client.get(f"/api/files/{listed[0]['file_id']}/download", headers=teacher)
    assert response.status_code == 200 and response.content == data
    header = response.headers["content-disposition"]
    assert header.isascii()
    # RFC 6266: browsers take `filename*` (RFC 5987: charset, empty language, percent-encoded UTF-8) ...
    assert filename_of(header) == NAME
    # ... and older clients the quoted ASCII `filename`, with nothing in it that could end the quoted string.
    fallback = header.split("filename=", 1)[1].split(";", 1)[0]
    assert fallback.startswith('"Ubung') and fallback.endswith('.pdf"') and '"' not in fallback[1:-1]


async def test_a_name_uploaded_through_the_form_is_stored_and_served_as_given(
    client: httpx.AsyncClient, auth: Auth, db: AsyncEngine, teacher_id: str
) -> None:
    # Browsers (and httpx) send `"` in a multipart file name as %22: the name is the teacher's, not the escape.
    teacher = auth(teacher_id, "teacher")
    data = course_pdf(sciq_chapters(1, 1, 1, offset=60))
    uploaded = await upload(client, teacher, (NAME, data), title="Übungen")
    assert uploaded.status_code == 202, uploaded.text
    assert [f["filename"] for f in uploaded.json()["files"]] == [NAME]
    file_id = uploaded.json()["files"][0]["file_id"]
    response = await client.get(f"/api/files/{file_id}/download", headers=teacher)
    assert response.status_code == 200 and response.content == data
    assert filename_of(response.headers["content-disposition"]) == NAME


async def test_a_file_whose_stored_copy_is_gone_answers_404_file_missing(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncEngine,
    settings: Settings,
    ingested: tuple[int, bytes],
    teacher_id: str,
) -> None:
    course_id, _ = ingested
    file_id, location = await stored_file(db, course_id)
    open_storage(settings).delete(location)
    response = await client.get(f"/api/files/{file_id}/download", headers=auth(teacher_id, "teacher"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "file_missing"


async def test_a_file_delete_the_database_refuses_leaves_the_file_and_its_chunks(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncEngine,
    settings: Settings,
    ingested: tuple[int, bytes],
    teacher_id: str,
) -> None:
    course_id, data = ingested
    teacher = auth(teacher_id, "teacher")
    file_id, location = await stored_file(db, course_id)
    chunks = chunks_of(settings, course_id, file_id)
    assert chunks > 0
    await refer_to(db, "test_file_refs", "file_id", "source_files (file_id)", file_id)
    try:
        refused = await client.delete(f"/api/files/{file_id}", headers=teacher)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "delete_conflict"
        assert chunks_of(settings, course_id, file_id) == chunks
        assert open_storage(settings).get(location) == data
        again = await client.get(f"/api/files/{file_id}/download", headers=teacher)
        assert again.status_code == 200 and again.content == data
    finally:
        await drop(db, "test_file_refs")

    assert (await client.delete(f"/api/files/{file_id}", headers=teacher)).status_code == 204
    assert chunks_of(settings, course_id, file_id) == 0
    with pytest.raises(FileNotFoundError):
        open_storage(settings).get(location)
    assert (await client.get(f"/api/files/{file_id}/download", headers=teacher)).status_code == 404


async def test_a_course_delete_the_database_refuses_leaves_its_files_and_index(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncEngine,
    settings: Settings,
    ingested: tuple[int, bytes],
    teacher_id: str,
) -> None:
    course_id, data = ingested
    teacher = auth(teacher_id, "teacher")
    _, location = await stored_file(db, course_id)
    chunks = chunks_of(settings, course_id)
    await refer_to(db, "test_course_refs", "course_id", "courses (course_id)", course_id)
    try:
        refused = await client.delete(f"/api/courses/{course_id}", headers=teacher)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "delete_conflict"
        assert chunks_of(settings, course_id) == chunks > 0
        assert open_storage(settings).get(location) == data
        assert (await client.get(f"/api/courses/{course_id}", headers=teacher)).status_code == 200
    finally:
        await drop(db, "test_course_refs")

    assert (await client.delete(f"/api/courses/{course_id}", headers=teacher)).status_code == 204
    assert chunks_of(settings, course_id) == 0
    with pytest.raises(FileNotFoundError):
        open_storage(settings).get(location)


async def test_deleting_a_file_whose_copy_and_chunks_are_already_gone_still_succeeds(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncEngine,
    settings: Settings,
    ingested: tuple[int, bytes],
    teacher_id: str,
) -> None:
    # What an interrupted earlier clean-up leaves: the row, with its stored copy and index gone.
    course_id, _ = ingested
    teacher = auth(teacher_id, "teacher")
    file_id, location = await stored_file(db, course_id)
    open_storage(settings).delete(location)
    open_vector_store(settings).delete_course(course_id)
    assert (await client.delete(f"/api/files/{file_id}", headers=teacher)).status_code == 204
    assert (await client.get("/api/files", params={"course_id": course_id}, headers=teacher)).json() == []
    assert (await client.delete(f"/api/courses/{course_id}", headers=teacher)).status_code == 204
