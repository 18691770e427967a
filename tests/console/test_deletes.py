"""The console's course delete goes through the same service as the API's: rows committed before the files go."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_files import drop, refer_to
from tests.console.conftest import Browser, csrf_of
from tests.factories import course_pdf, sciq_chapters
from tutor.settings import Settings


async def test_a_course_delete_the_database_refuses_leaves_the_course_and_its_files(
    browser_session: Browser, engine: AsyncEngine, settings: Settings
) -> None:
    teacher = await browser_session("t-refused", "teacher")
    token = csrf_of((await teacher.get("/teach")).text)
    upload = await teacher.post(
        "/teach/api/uploads",
        files=[("files", ("cells.pdf", course_pdf(sciq_chapters(1, 1, 1, offset=90)), "application/pdf"))],
        data={"title": "Kept"},
        headers={"X-CSRF-Token": token},
    )
    course_id = upload.json()["course_id"]
    async with engine.connect() as conn:
        location = await conn.scalar(text(f"SELECT file_path FROM source_files WHERE course_id = {course_id}"))
    stored = settings.files_dir / location
    await refer_to(engine, "test_console_refs", "course_id", "courses (course_id)", course_id)
    try:
        refused = await teacher.post(f"/teach/courses/{course_id}/delete", data={"csrf_token": token})
        assert refused.status_code == 409
        assert stored.exists()
        assert (await teacher.get(f"/teach/courses/{course_id}")).status_code == 200
    finally:
        await drop(engine, "test_console_refs")
    gone = await teacher.post(f"/teach/courses/{course_id}/delete", data={"csrf_token": token})
    assert gone.status_code == 303 and not stored.exists()
