"""Signing in to the console: one-time links, session cookies, CSRF, sign out, and who may open what."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.web_session import SESSION_COOKIE
from tests.console.conftest import Browser, csrf_of


async def test_a_sign_in_link_opens_a_session_once_and_lands_on_the_console(
    app_client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], db: AsyncEngine
) -> None:
    link = (await app_client.post("/api/sign-in-links", headers=auth("t-link", "teacher"))).json()
    assert "/signin/link?code=" in link["url"] and link["expires_in"] <= 15 * 60
    assert "eyJ" not in link["url"]  # never a JWT in a URL
    async with httpx.AsyncClient(transport=app_client._transport, base_url="http://tutor.test") as browser:
        first = await browser.get(link["url"])
        assert first.status_code == 303 and first.headers["location"] == "/teach"
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        page = await browser.get("/teach")
        assert page.status_code == 200 and "Your courses" in page.text and "t-link" in page.text
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"

    async with httpx.AsyncClient(transport=app_client._transport, base_url="http://tutor.test") as other:
        again = await other.get(link["url"])
        assert again.status_code == 400 and "expired or was already used" in again.text
        assert SESSION_COOKIE not in again.cookies


async def test_over_https_the_session_cookie_is_secure(
    app_client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], db: AsyncEngine
) -> None:
    link = (await app_client.post("/api/sign-in-links", headers=auth("t-https", "teacher"))).json()
    async with httpx.AsyncClient(transport=app_client._transport, base_url="https://tutor.test") as browser:
        response = await browser.get(link["url"].replace("http://", "https://"))
        assert response.status_code == 303 and "secure" in response.headers["set-cookie"].lower()


async def test_the_root_sends_a_teacher_to_the_console_and_anyone_else_to_a_sign_in_page(
    app_client: httpx.AsyncClient, browser_session: Browser
) -> None:
    async with httpx.AsyncClient(transport=app_client._transport, base_url="http://tutor.test") as anonymous:
        root = await anonymous.get("/")
        assert root.status_code == 303 and root.headers["location"] == "/signin"
        signin = await anonymous.get("/signin")
        assert signin.status_code == 200 and "tutor signin-link --user" in signin.text
        assert signin.headers["content-type"].startswith("text/html")
        teach = await anonymous.get("/teach/upload")
        assert teach.status_code == 303 and teach.headers["location"] == "/signin?next=%2Fteach%2Fupload"
    teacher = await browser_session("t-root", "teacher")
    assert (await teacher.get("/")).headers["location"] == "/teach"


async def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    browser_session: Browser, engine: AsyncEngine
) -> None:
    teacher = await browser_session("t-csrf", "teacher")
    token = csrf_of((await teacher.get("/teach")).text)
    missing = await teacher.post("/teach/courses", data={"title": "Forged"})
    wrong = await teacher.post("/teach/courses", data={"title": "Forged", "csrf_token": "x" * 43})
    for refused in (missing, wrong):
        assert refused.status_code == 403 and "did not come from this site" in refused.text
    script = await teacher.post("/teach/api/uploads", files={"files": ("a.pdf", b"%PDF-1.4")}, data={"title": "X"})
    assert script.status_code == 403 and script.json()["error"]["code"] == "csrf_failed"
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM courses")) == 0

    made = await teacher.post("/teach/courses", data={"title": "Real", "csrf_token": token})
    assert made.status_code == 303
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM courses WHERE title = 'Real'")) == 1


async def test_a_student_session_cannot_open_any_teacher_page(
    browser_session: Browser, app_client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    made = await app_client.post("/api/courses", json={"title": "Owned"}, headers=auth("t-owner", "teacher"))
    course_id = made.json()["course_id"]
    student = await browser_session("s-curious", "student")
    for path in ("/teach", "/teach/upload", f"/teach/courses/{course_id}", f"/teach/courses/{course_id}/delete"):
        response = await student.get(path)
        assert response.status_code == 403, path
        assert "needs a teacher" in response.text
    assert (await student.get("/teach/api/jobs/job_x")).json()["error"]["code"] == "teacher_only"
    assert (await student.get("/")).headers["location"] == "/signin"


async def test_another_teachers_course_is_not_found(
    browser_session: Browser, app_client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], engine: AsyncEngine
) -> None:
    made = await app_client.post("/api/courses", json={"title": "Mine"}, headers=auth("t-a", "teacher"))
    course_id = made.json()["course_id"]
    other = await browser_session("t-b", "teacher")
    token = csrf_of((await other.get("/teach")).text)
    assert "Mine" not in (await other.get("/teach")).text
    for path in (f"/teach/courses/{course_id}", f"/teach/courses/{course_id}/delete"):
        assert (await other.get(path)).status_code == 404
    publish = await other.post(f"/teach/courses/{course_id}/status", data={"action": "publish", "csrf_token": token})
    delete = await other.post(f"/teach/courses/{course_id}/delete", data={"csrf_token": token})
    assert publish.status_code == delete.status_code == 404
    async with engine.connect() as conn:
        assert await conn.scalar(text(f"SELECT status FROM courses WHERE course_id = {course_id}")) == "draft"


async def test_bearer_tokens_keep_working_and_the_session_opens_the_api_only_with_its_csrf_token_for_changes(
    browser_session: Browser, app_client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], engine: AsyncEngine
) -> None:
    assert (await app_client.get("/api/courses", headers=auth("t-bearer", "teacher"))).status_code == 200
    teacher = await browser_session("t-bearer", "teacher")
    assert (await teacher.get("/api/courses")).status_code == 200  # reads: the session is enough
    course = {"title": "Made from the console's session"}
    forged = await teacher.post("/api/courses", json=course)
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM courses WHERE created_by = 't-bearer'")) == 0
    token = csrf_of((await teacher.get("/teach")).text)
    made = await teacher.post("/api/courses", json=course, headers={"X-CSRF-Token": token})
    assert made.status_code == 201, made.text


async def test_signing_out_revokes_the_session_on_the_server(browser_session: Browser) -> None:
    teacher = await browser_session("t-out", "teacher")
    cookie = teacher.cookies[SESSION_COOKIE]
    token = csrf_of((await teacher.get("/teach")).text)
    out = await teacher.post("/signout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    teacher.cookies.set(SESSION_COOKIE, cookie)  # a copy of the old cookie no longer opens anything
    assert (await teacher.get("/teach")).status_code == 303


async def test_a_deactivated_teacher_loses_the_console_at_once(browser_session: Browser, engine: AsyncEngine) -> None:
    teacher = await browser_session("t-gone", "teacher")
    assert (await teacher.get("/teach")).status_code == 200
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE users SET is_active = false WHERE user_id = 't-gone'"))
    response = await teacher.get("/teach")
    assert response.status_code == 401 and "deactivated" in response.text
