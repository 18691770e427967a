"""The console's courses: list with counts, create, publish/unpublish/archive, upload with progress, delete."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.console.conftest import Browser, csrf_of
from tests.factories import course_pdf, encrypted_pdf, sciq_chapters
from tutor.settings import Settings


async def test_uploads_name_duplicates_and_explain_bad_files_then_the_job_shows_its_stages(
    browser_session: Browser, engine: AsyncEngine
) -> None:
    teacher = await browser_session("t-upload", "teacher")
    page = await teacher.get("/teach/upload")
    assert page.status_code == 200 and 'type="file"' in page.text and "multiple" in page.text
    headers = {"X-CSRF-Token": csrf_of(page.text)}
    one, two = course_pdf(sciq_chapters(1, 1, 1)), course_pdf(sciq_chapters(1, 1, 1, offset=5))
    first = await teacher.post(
        "/teach/api/uploads",
        files=[("files", ("one.pdf", one, "application/pdf")), ("files", ("two.pdf", two, "application/pdf"))],
        data={"title": "Uploaded biology"},
        headers=headers,
    )
    assert first.status_code == 202, first.text
    receipt = first.json()
    assert receipt["files"] == ["one.pdf", "two.pdf"] and receipt["duplicates"] == []

    job = (await teacher.get(receipt["job_url"])).json()
    assert job["status"] == "pending" and job["stages"][0] == {"name": "Queued", "state": "current"}
    assert [s["state"] for s in job["stages"][1:]] == ["waiting"] * 5

    again = await teacher.post(
        "/teach/api/uploads",
        files=[
            ("files", ("copy-of-one.pdf", one, "application/pdf")),
            ("files", ("three.pdf", course_pdf(sciq_chapters(1, 1, 1, offset=9)), "application/pdf")),
        ],
        data={"course_id": str(receipt["course_id"])},
        headers=headers,
    )
    assert again.status_code == 202 and again.json()["duplicates"] == ["copy-of-one.pdf"]

    locked = await teacher.post(
        "/teach/api/uploads",
        files=[("files", ("locked.pdf", encrypted_pdf(), "application/pdf"))],
        data={"title": "Locked"},
        headers=headers,
    )
    assert locked.status_code == 422 and "password-protected" in locked.json()["error"]["message"]

    listing = await teacher.get("/teach")
    assert "Uploaded biology" in listing.text and "Locked" not in listing.text
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM source_files")) == 3


async def test_a_teacher_creates_publishes_unpublishes_and_archives_a_course(
    browser_session: Browser, engine: AsyncEngine
) -> None:
    teacher = await browser_session("t-life", "teacher")
    token = csrf_of((await teacher.get("/teach")).text)
    made = await teacher.post("/teach/courses", data={"title": "Chemistry <b>1</b>", "csrf_token": token})
    course_id = int(made.headers["location"].split("/")[3].split("?")[0])
    listing = (await teacher.get("/teach")).text
    assert "Chemistry &lt;b&gt;1&lt;/b&gt;" in listing and "<b>1</b>" not in listing  # escaped
    assert "Draft" in listing

    async def status() -> str:
        async with engine.connect() as conn:
            return str(await conn.scalar(text(f"SELECT status FROM courses WHERE course_id = {course_id}")))

    for action, expected in (("publish", "active"), ("unpublish", "draft"), ("archive", "archived")):
        done = await teacher.post(f"/teach/courses/{course_id}/status", data={"action": action, "csrf_token": token})
        assert done.status_code == 303 and await status() == expected
    bad = await teacher.post(f"/teach/courses/{course_id}/status", data={"action": "explode", "csrf_token": token})
    assert bad.status_code == 422 and await status() == "archived"


async def test_deleting_a_course_asks_first_naming_what_will_go_then_removes_it_and_its_files(
    browser_session: Browser, engine: AsyncEngine, settings: Settings
) -> None:
    teacher = await browser_session("t-delete", "teacher")
    token = csrf_of((await teacher.get("/teach")).text)
    upload = await teacher.post(
        "/teach/api/uploads",
        files=[("files", ("cells.pdf", course_pdf(sciq_chapters(1, 1, 1)), "application/pdf"))],
        data={"title": "Short-lived"},
        headers={"X-CSRF-Token": token},
    )
    course_id = upload.json()["course_id"]
    async with engine.connect() as conn:
        locations = (
            await conn.execute(text(f"SELECT file_path FROM source_files WHERE course_id = {course_id}"))
        ).scalars()
        stored = [settings.files_dir / location for location in locations]
    assert stored and all(p.exists() for p in stored)

    confirm = await teacher.get(f"/teach/courses/{course_id}/delete")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    assert "cells.pdf" in confirm.text and "1 PDF file(s)" in confirm.text
    assert (await teacher.get(f"/teach/courses/{course_id}")).status_code == 200  # nothing removed by looking

    gone = await teacher.post(f"/teach/courses/{course_id}/delete", data={"csrf_token": token})
    assert gone.status_code == 303 and gone.headers["location"].startswith("/teach?deleted=")
    assert "Deleted “Short-lived”" in (await teacher.get(gone.headers["location"])).text
    async with engine.connect() as conn:
        assert await conn.scalar(text(f"SELECT count(*) FROM courses WHERE course_id = {course_id}")) == 0
    assert not any(p.exists() for p in stored)
