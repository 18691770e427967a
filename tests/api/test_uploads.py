"""The teacher's upload flow end to end: HTTP upload → job in Redis → real worker → course, quizzes, index."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import course_pdf, encrypted_pdf, image_only_pdf, sciq_chapters, unique_user
from tutor.settings import Settings

Auth = Callable[..., dict[str, str]]


async def wait_for_job(
    client: httpx.AsyncClient, job_id: str, headers: dict[str, str], timeout: float = 180
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = (await client.get(f"/api/jobs/{job_id}", headers=headers)).json()
        if job["status"] in ("completed", "failed"):
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} ({job['message']}) after {timeout} s"
        await asyncio.sleep(0.2)


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], *files: tuple[str, bytes], **form: Any
) -> httpx.Response:
    return await client.post(
        "/api/upload-pdfs",
        headers=headers,
        data={k: str(v) for k, v in form.items()},
        files=[("files", (name, data, "application/pdf")) for name, data in files],
    )


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            t: int(await conn.scalar(text(f"SELECT count(*) FROM {t}")))
            for t in ("courses", "modules", "topics", "quizzes", "quiz_questions", "source_files", "job_queue")
        }


@pytest.fixture
def teacher(auth: Auth) -> dict[str, str]:
    return auth(unique_user("teacher-ada"), "teacher")


async def sentence_vectors(engine: AsyncEngine, course_id: int) -> int:
    async with engine.connect() as conn:
        query = text("SELECT count(*) FROM sentence_vectors WHERE course_id = :c")
        return int(await conn.scalar(query, {"c": course_id}) or 0)


async def test_uploaded_pdfs_become_a_course_with_quizzes_and_a_cited_index(
    client: httpx.AsyncClient,
    teacher: dict[str, str],
    auth: Auth,
    settings: Settings,
    worker: subprocess.Popen[bytes],
    db: AsyncEngine,
) -> None:
    with_outline = course_pdf(sciq_chapters(3, 3, 2), outline=True)
    without_outline = course_pdf(sciq_chapters(2, 2, 2, offset=40), outline=False)
    response = await upload(
        client,
        teacher,
        ("biology.pdf", with_outline),
        ("earth.pdf", without_outline),
        title="Science 101",
        description="Intro science",
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "pending" and len(accepted["files"]) == 2
    assert all(len(f["checksum"]) == 64 for f in accepted["files"])

    job = await wait_for_job(client, accepted["job_id"], teacher)
    assert job["status"] == "completed", job
    assert job["progress"] == 100 and job["task_id"] == accepted["task_id"]
    assert job["started_at"] and job["completed_at"] and job["message"].startswith("Done")
    result = job["result"]
    assert result["course_id"] == accepted["course_id"]
    assert result["modules"] >= 4 and result["topics"] >= 10 and result["chunks"] >= result["topics"]
    assert result["quizzes"] == result["modules"] and result["questions"] >= 3 * result["quizzes"]

    course = (await client.get(f"/api/courses/{result['course_id']}", headers=teacher)).json()
    assert course["title"] == "Science 101" and course["status"] == "active"
    weeks = [m["week"] for m in course["modules"]]
    assert weeks == list(range(1, len(weeks) + 1))
    for module in course["modules"]:
        assert module["topics"], module["title"]
        assert [t["order_index"] for t in module["topics"]] == sorted(t["order_index"] for t in module["topics"])
        assert all(t["content"].strip() and t["estimated_time"] >= 1 for t in module["topics"])
        (quiz,) = module["quizzes"]
        assert quiz["quiz_type"] == "module" and quiz["passing_score"] == 70
        for q in quiz["questions"]:
            assert set(q["options"]) == {"A", "B", "C", "D"}
            assert q["correct_answer"] in q["options"] and ".pdf, p." in q["explanation"]
    assert {f["filename"] for f in course["files"]} == {"biology.pdf", "earth.pdf"}

    student_view = (await client.get(f"/api/courses/{result['course_id']}", headers=auth("stu-1"))).json()
    question = student_view["modules"][0]["quizzes"][0]["questions"][0]
    assert question["correct_answer"] is None and question["explanation"] is None

    from tutor.vectorstore import open_vector_store

    store = open_vector_store(settings)
    assert store.count(result["course_id"]) == result["chunks"]

    # Once the course is ready, the worker embeds its sentences for quoted answers.
    deadline = time.monotonic() + 120
    while not await sentence_vectors(db, result["course_id"]):
        assert time.monotonic() < deadline, "the worker stored no sentence vectors"
        await asyncio.sleep(0.2)


async def test_adding_a_pdf_to_a_course_continues_its_weeks(
    client: httpx.AsyncClient, teacher: dict[str, str], worker: subprocess.Popen[bytes]
) -> None:
    first = (await upload(client, teacher, ("a.pdf", course_pdf(sciq_chapters(2, 2, 1))), title="Weeks")).json()
    assert (await wait_for_job(client, first["job_id"], teacher))["status"] == "completed"
    more = await upload(
        client, teacher, ("b.pdf", course_pdf(sciq_chapters(2, 2, 1, offset=30))), course_id=first["course_id"]
    )
    assert more.status_code == 202, more.text
    assert (await wait_for_job(client, more.json()["job_id"], teacher))["status"] == "completed"
    course = (await client.get(f"/api/courses/{first['course_id']}", headers=teacher)).json()
    weeks = [m["week"] for m in course["modules"]]
    assert weeks == list(range(1, len(weeks) + 1)) and len(weeks) == 4


async def test_the_same_file_twice_in_a_course_is_recognised(
    client: httpx.AsyncClient, teacher: dict[str, str], db: AsyncEngine
) -> None:
    pdf = course_pdf(sciq_chapters(1, 2, 1))
    first = (await upload(client, teacher, ("notes.pdf", pdf), title="Dup")).json()
    before = await counts(db)
    again = await upload(client, teacher, ("renamed.pdf", pdf), course_id=first["course_id"])
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_files"
    assert first["files"][0]["file_id"] in again.json()["error"]["message"]
    assert await counts(db) == before


@pytest.mark.parametrize(
    ("name", "make", "status", "code"),
    [
        ("notes.pdf", lambda: b"just some text, not a PDF at all" * 10, 415, "not_a_pdf"),
        ("locked.pdf", encrypted_pdf, 422, "encrypted_pdf"),
        ("cut.pdf", lambda: course_pdf(sciq_chapters(1, 1, 1))[:1500], 422, "corrupt_pdf"),
    ],
)
async def test_bad_files_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    teacher: dict[str, str],
    db: AsyncEngine,
    name: str,
    make: Callable[[], bytes],
    status: int,
    code: str,
) -> None:
    before = await counts(db)
    good = course_pdf(sciq_chapters(1, 1, 1))
    response = await upload(client, teacher, ("good.pdf", good), (name, make()), title="Bad")
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert name in response.json()["error"]["message"]
    assert await counts(db) == before


async def test_limits_on_size_and_pages_come_from_settings(settings: Settings, auth: Auth, db: AsyncEngine) -> None:
    from api.app import create_app

    app = create_app(settings.model_copy(update={"max_upload_mb": 1, "max_pages": 3}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        teacher = auth(unique_user("teacher-lim"), "teacher")
        long_pdf = course_pdf(sciq_chapters(4, 2, 1))
        pages = await upload(client, teacher, ("long.pdf", long_pdf), title="Long")
        assert pages.status_code == 413 and pages.json()["error"]["code"] == "too_many_pages"
        big = course_pdf(sciq_chapters(1, 1, 1)) + b"%" * (1024 * 1024)
        size = await upload(client, teacher, ("big.pdf", big), title="Big")
        assert size.status_code == 413 and size.json()["error"]["code"] == "file_too_large"
        assert (await counts(db))["courses"] == 0


async def test_unknown_or_foreign_course_id_is_not_found(
    client: httpx.AsyncClient, teacher: dict[str, str], auth: Auth
) -> None:
    pdf = course_pdf(sciq_chapters(1, 1, 1))
    response = await upload(client, teacher, ("a.pdf", pdf), course_id=999_999)
    assert response.status_code == 404 and response.json()["error"]["code"] == "course_not_found"
    mine = (await upload(client, teacher, ("a.pdf", pdf), title="Mine")).json()
    other = await upload(
        client, auth(unique_user("teacher-bob"), "teacher"), ("b.pdf", pdf), course_id=mine["course_id"]
    )
    assert other.status_code == 404


async def test_students_cannot_upload(client: httpx.AsyncClient, auth: Auth) -> None:
    response = await upload(client, auth("stu-2"), ("a.pdf", course_pdf(sciq_chapters(1, 1, 1))), title="No")
    assert response.status_code == 403


async def test_an_image_only_pdf_fails_its_job_and_leaves_no_course(
    client: httpx.AsyncClient, teacher: dict[str, str], db: AsyncEngine, worker: subprocess.Popen[bytes]
) -> None:
    accepted = await upload(client, teacher, ("scan.pdf", image_only_pdf()), title="Scanned")
    assert accepted.status_code == 202, accepted.text
    job = await wait_for_job(client, accepted.json()["job_id"], teacher)
    assert job["status"] == "failed"
    assert "text" in job["error"].lower()
    assert job["course_id"] is None
    after = await counts(db)
    assert after["courses"] == after["source_files"] == after["modules"] == 0
    assert (await client.get(f"/api/courses/{accepted.json()['course_id']}", headers=teacher)).status_code == 404
