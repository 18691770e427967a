"""The student page in Chromium at a phone's size, with people's tokens from a school's identity provider (RS256,
JWKS): sign in by link, chat, take a week quiz, see progress move, reopen a conversation; a guest of a course open
to anonymous visitors chats too. Screenshots in test-artifacts/; axe-core finds nothing serious or critical."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.api.test_jwks import Provider, idp_settings, serve_jwks
from tests.chat.conftest import ChatCourse
from tests.conftest import REPO
from tests.servers import api_server
from tutor.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
ARTIFACTS = REPO / "test-artifacts"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def idp() -> Iterator[Provider]:
    with serve_jwks() as provider:
        yield provider


@pytest.fixture(scope="module")
def api(settings: Settings, course: ChatCourse, idp: Provider) -> Iterator[str]:
    # JWKS mode: the API takes no token the tutor signs for a person, so the page's chat runs on its session.
    with api_server(idp_settings(settings, idp)) as base:
        yield base


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def _sign_in_link(api: str, headers: dict[str, str], target: str) -> str:
    link = httpx.post(f"{api}/api/sign-in-links", headers=headers).json()["url"]
    return f"{link}&next={quote(target, safe='')}"


def _serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in found if v["impact"] in ("serious", "critical")]


def test_a_student_on_a_phone_chats_takes_a_week_quiz_sees_progress_and_reopens_a_conversation(
    api: str, browser: Any, course: ChatCourse, idp: Provider
) -> None:
    target = f"/learn/{course.course_id}"
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(_sign_in_link(api, bearer(idp.token("stu-phone")), target))
    assert page.url.endswith(target)
    assert page.locator("h1").inner_text() == "Science"
    assert page.locator(".week").count() >= 2 and "Nothing to review yet" in page.locator(".review").inner_text()
    assert _serious(page) == []
    # The page's script may use the API with the session, but only with the session's CSRF token.
    forged = page.evaluate(
        """(course) => fetch('/api/chat/stream', {method: 'POST', headers: {'Content-Type': 'application/json'},
             body: JSON.stringify({course_id: course, message: 'hi'})}).then(r => r.status)""",
        course.course_id,
    )
    assert forged == 403
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.locator("#question").fill(course.items[0]["question"])
    page.keyboard.press("Enter")
    reply = page.locator(".msg.assistant").last
    reply.locator(".chip").first.wait_for(timeout=60_000)
    assert course.items[0]["correct_answer"].lower() in reply.inner_text().lower()

    page.locator("button[data-quiz]").first.click()
    page.locator(".options button").first.wait_for(timeout=30_000)
    page.locator(".options button").first.click()
    page.locator(".msg.assistant", has_text="Correct").or_(
        page.locator(".msg.assistant", has_text="Not quite")
    ).first.wait_for(timeout=30_000)
    page.locator(".outline .mastery").first.wait_for(timeout=30_000)  # the outline refreshed with the answer
    assert _serious(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "learn-phone.png"), full_page=True)

    page.reload()
    page.locator(".sessions summary").click()
    assert page.locator(".sessions [data-session]").count() == 2  # the question's, and the quiz's
    page.locator(".sessions [data-session]").last.click()
    page.locator(".msg.user", has_text=course.items[0]["question"]).wait_for(timeout=30_000)
    page.locator(".msg.assistant .chip").first.wait_for()
    assert dialogs == []
    context.close()

    wide = browser.new_context(viewport={"width": 1280, "height": 900})
    desktop = wide.new_page()
    desktop.goto(_sign_in_link(api, bearer(idp.token("stu-phone")), target))
    desktop.locator(".outline .mastery").first.wait_for()
    assert _serious(desktop) == []
    desktop.screenshot(path=str(ARTIFACTS / "learn-desktop.png"), full_page=True)
    wide.close()


def test_a_guest_chats_where_the_course_takes_anonymous_visitors_and_is_sent_to_sign_in_where_it_does_not(
    api: str, browser: Any, course: ChatCourse, idp: Provider
) -> None:
    teacher = bearer(idp.token("teacher-chat", role="teacher"))
    embed = f"{api}/api/courses/{course.course_id}/embed"
    opened = httpx.put(embed, headers=teacher, json={"allowed_origins": ["https://school.example"]})
    assert opened.status_code == 200, opened.text
    target = f"/learn/{course.course_id}"
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{api}{target}")
    assert page.url.endswith(target) and "You are a guest" in page.locator("header").inner_text()
    page.locator("#question").fill(course.items[0]["question"])
    page.keyboard.press("Enter")
    reply = page.locator(".msg.assistant").last
    reply.locator(".chip").first.wait_for(timeout=60_000)
    assert course.items[0]["correct_answer"].lower() in reply.inner_text().lower()
    assert _serious(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "learn-guest.png"), full_page=True)
    context.close()

    closed = httpx.put(
        embed, headers=teacher, json={"allowed_origins": ["https://school.example"], "require_signed_identity": True}
    )
    assert closed.status_code == 200
    stranger = browser.new_context()
    page = stranger.new_page()
    page.goto(f"{api}{target}")
    assert "/signin?next=" in page.url and page.locator("h1").count() == 1
    stranger.close()
