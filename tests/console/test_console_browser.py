"""The teacher console in a real browser (Debian's Chromium via Playwright) against the real API and worker:
sign in by link, upload and watch the job, fix a question a student then gets, reorder by keyboard, publish,
read a transcript and its export, see analytics; axe-core on every page; a screenshot of each in test-artifacts/."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.chat.sse import parse_sse
from tests.conftest import REPO, empty_tables
from tests.factories import course_pdf, sciq_chapters
from tests.servers import api_server
from tutor.identity import mint_token
from tutor.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
ARTIFACTS = REPO / "test-artifacts"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
async def clean(engine: AsyncEngine) -> AsyncIterator[None]:
    """Set up before the browser (whose sync API holds the event loop while it runs); empties the tables after."""
    yield
    await empty_tables(engine)


@pytest.fixture(scope="module")
def api(clean: None, settings: Settings, worker: subprocess.Popen[bytes]) -> Iterator[str]:
    with api_server(settings) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        chromium.close()


class Pages:
    """Visits pages, saves a screenshot of each and checks it with axe-core (0 serious or critical problems)."""

    def __init__(self, page: Any) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page, self.axe = page, Axe()
        ARTIFACTS.mkdir(exist_ok=True)

    def check(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)
        violations = self.axe.run(self.page).response["violations"]
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"{name}: {serious}"


def sign_in_link(api: str, settings: Settings, user: str, role: str) -> str:
    token = mint_token(settings, user, role)  # type: ignore[arg-type]
    response = httpx.post(f"{api}/api/sign-in-links", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return str(response.json()["url"])


def student_says(api: str, settings: Settings, course_id: int, message: str, session_id: str | None = None) -> Any:
    token = mint_token(settings, "stu-browser", "student")
    response = httpx.post(
        f"{api}/api/chat/stream",
        json={"course_id": course_id, "message": message, "session_id": session_id},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


def test_a_teacher_builds_fixes_publishes_and_follows_a_course_from_the_browser(
    api: str, browser: Any, settings: Settings, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 820, "height": 1100}, accept_downloads=True)  # a tablet
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(f"{d.type}: {d.message}"), d.accept()))
    pages = Pages(page)

    # Anyone who opens the site lands on a page that says how to sign in.
    page.goto(api)
    assert page.url.endswith("/signin") and "tutor signin-link" in page.inner_text("main")
    pages.check("signin")

    page.goto(sign_in_link(api, settings, "t-browser", "teacher"))
    assert page.url.endswith("/teach")
    assert "No courses yet" in page.inner_text("main")

    # Upload two PDFs into a new course; the stages show as the worker goes, without a reload.
    one, two = tmp_path / "cells.pdf", tmp_path / "energy.pdf"
    one.write_bytes(course_pdf(sciq_chapters(2, 2, 2)))
    two.write_bytes(course_pdf(sciq_chapters(1, 2, 2, offset=12)))
    page.get_by_role("link", name="Upload PDFs").first.click()
    page.get_by_label("Title of the new course").fill("Biology from the browser")
    page.get_by_label("PDF files").set_input_files([str(one), str(two)])
    assert "cells.pdf" in page.inner_text("#chosen") and "energy.pdf" in page.inner_text("#chosen")
    page.get_by_role("button", name="Upload and build").click()
    page.locator("#done").wait_for(state="visible", timeout=300_000)
    assert "Saving the course: done" in page.inner_text("#stages")
    pages.check("upload-finished")

    page.get_by_role("link", name="Review the course").click()
    page.wait_for_url("**/teach/courses/*")
    course_id = int(page.url.split("/teach/courses/")[1].split("?")[0].split("#")[0])
    pages.check("course")

    # Edit question 1 of week 1's quiz; a student who starts that quiz through the chat gets the new text.
    question = page.locator(".week").first.locator(".question").first
    question.get_by_text("Edit question 1").click()
    question.get_by_label("Question", exact=True).fill("Which word did the teacher blank out here?")
    question.get_by_role("button", name="Save question").click()
    expect(page.locator(".week").first.locator(".qtext").first).to_have_text(
        "Which word did the teacher blank out here?"
    )
    events = student_says(api, settings, course_id, "quiz me on week 1")
    asked = next(d for n, d in events if n == "quiz_question")
    assert asked["text"] == "Which word did the teacher blank out here?"

    # Reorder topics with the keyboard: focus "Move down" on the first topic, press Enter.
    topics = page.locator(".week").first.locator(".topic-title")
    first, second = topics.nth(0).inner_text(), topics.nth(1).inner_text()
    page.locator(".week").first.locator(".topics > li").first.get_by_role("button", name="Move down").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**moved=topic-*", wait_until="load")
    topics = page.locator(".week").first.locator(".topic-title")
    expect(topics.nth(0)).to_have_text(second)
    expect(topics.nth(1)).to_have_text(first)
    moved = page.url.split("moved=")[1].split("&")[0]
    # Focus stays on the moved topic's buttons, so the keyboard can move it again at once.
    assert page.evaluate("document.activeElement.closest('li').id") == moved

    # Unpublish, then publish again from the course page.
    page.get_by_role("button", name="Unpublish Biology from the browser").click()
    expect(page.locator(".course-head .status")).to_have_text("Draft")
    page.get_by_role("button", name="Publish Biology from the browser").click()
    expect(page.locator(".course-head .status")).to_have_text("Published")

    page.goto(f"{api}/teach")
    assert "Biology from the browser" in page.inner_text("table.courses")
    pages.check("courses")

    # A student's markup shows as text in the transcript and the content gaps, and runs nothing.
    student_says(api, settings, course_id, XSS)
    page.goto(f"{api}/teach/courses/{course_id}/transcripts")
    pages.check("transcripts")
    page.get_by_role("link", name=XSS).click()
    page.wait_for_url("**/transcripts/*")
    assert XSS in page.inner_text("main")
    pages.check("transcript")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export this student's sessions (CSV)").click()
    exported = Path(download.value.path()).read_text()
    assert "quiz me on week 1" in exported and "onerror" in exported

    # After a student's quiz, analytics show the attempt.
    token = mint_token(settings, "stu-browser", "student")
    submitted = httpx.post(
        f"{api}/api/quizzes/{asked['quiz_id']}/responses",
        json={"answers": {"1": "A", "2": "B"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert submitted.status_code == 201, submitted.text
    page.goto(f"{api}/teach/courses/{course_id}/analytics")
    assert "stu-browser" in page.inner_text("main") and page.locator("svg.chart").count() >= 2
    pages.check("analytics")

    page.goto(f"{api}/teach/courses/{course_id}/embed")
    pages.check("embed")
    page.goto(f"{api}/teach/courses/{course_id}/delete")
    assert "cells.pdf" in page.inner_text("main") and "energy.pdf" in page.inner_text("main")
    pages.check("delete")
    assert not [d for d in dialogs if d.startswith("alert")], dialogs

    # A student's session cannot open the console.
    student = browser.new_context()
    student_page = student.new_page()
    student_page.goto(sign_in_link(api, settings, "stu-browser", "student"))
    response = student_page.goto(f"{api}/teach/courses/{course_id}")
    assert response is not None and response.status == 403
    Pages(student_page).check("student-refused")
    student.close()
    context.close()
