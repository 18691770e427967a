"""The student's page /learn/{course_id}: signed in through a link, it shows the outline with the student's own
progress, the week quizzes and what is due for review, escapes course text, and keeps out who may not read it."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from urllib.parse import quote

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from api.web_session import SESSION_COOKIE
from tests.quiz.rows import make_course
from tutor.settings import Settings

Auth = Callable[..., dict[str, str]]


async def signed_in(app_client: httpx.AsyncClient, auth: Auth, user_id: str, next_: str) -> httpx.AsyncClient:
    """A browser with a session: the host's token exchanged for a one-time link, followed to `next_`."""
    link = (await app_client.post("/api/sign-in-links", headers=auth(user_id))).json()["url"]
    browser = httpx.AsyncClient(transport=app_client._transport, base_url="http://tutor.test")
    landed = await browser.get(f"{link}&next={quote(next_, safe='')}")
    assert landed.status_code == 303 and landed.headers["location"] == next_, landed.text
    return browser


async def test_a_signed_in_student_sees_weeks_topics_quizzes_and_their_own_progress(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    rows = await make_course(sessions, teacher="teacher-learn")
    async with engine.begin() as conn:  # course text is untrusted: a topic title with markup
        await conn.execute(
            text("UPDATE topics SET title = '<script>alert(1)</script> Osmosis' WHERE module_id = :m"),
            {"m": rows.module_ids[0]},
        )
    wrong = {n: ("A" if letter != "A" else "B") for n, letter in rows.answers[0].items()}
    submitted = await client.post(
        f"/api/quizzes/{rows.quiz_ids[0]}/responses", headers=auth("stu-page"), json={"answers": wrong}
    )
    assert submitted.status_code == 201
    url = f"/learn/{rows.course_id}"
    browser = await signed_in(client, auth, "stu-page", url)
    page = await browser.get(url)
    await browser.aclose()
    assert page.status_code == 200
    html = page.text
    assert "Week 1: Week 1: cells" in html and "Week 2: Week 2: cells" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Osmosis" in html and "<script>alert(1)" not in html
    assert f'data-quiz="{rows.quiz_ids[0]}"' in html and "Take the week 2 quiz (4 questions)" in html
    assert "in progress · 0%" in html and "best score 0%" in html  # week 1: tried, not passed
    assert "mastery 1" in html  # four misses: mastery near its floor, shown per topic
    assert "Nothing is due now" in html  # missed a moment ago: due tomorrow
    policy = page.headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy and "style-src 'self';" in policy and "style-src-attr 'unsafe-inline'" in policy
    )


async def test_without_a_session_the_page_asks_to_sign_in_and_others_courses_stay_hidden(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    draft = await make_course(sessions, teacher="teacher-draft", status="draft")
    anonymous = await client.get(f"/learn/{draft.course_id}")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/signin?next={quote(f'/learn/{draft.course_id}', safe='')}"
    browser = await signed_in(client, auth, "stu-outsider", f"/learn/{draft.course_id}")
    hidden = await browser.get(f"/learn/{draft.course_id}")
    missing = await browser.get("/learn/999999")
    await browser.aclose()
    assert hidden.status_code == 404 and "text/html" in hidden.headers["content-type"]
    assert missing.status_code == 404


async def test_the_page_calls_the_json_api_with_its_session_and_csrf_token(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    rows = await make_course(sessions, teacher="teacher-cookie")
    url = f"/learn/{rows.course_id}"
    browser = await signed_in(client, auth, "stu-cookie", url)
    page = await browser.get(url)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert csrf and "data-token" not in page.text  # no bearer token in the page any more
    answers = {"answers": dict.fromkeys(rows.answers[0], "A")}
    submit = f"/api/quizzes/{rows.quiz_ids[0]}/responses"
    forged = await browser.post(submit, json=answers)  # what another site's form or script could send
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
    wrong = await browser.post(submit, json=answers, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM quiz_responses WHERE user_id = 'stu-cookie'")) == 0
    sent = await browser.post(submit, json=answers, headers={"X-CSRF-Token": csrf.group(1)})
    assert sent.status_code == 201, sent.text
    review = await browser.get("/api/review", params={"course_id": rows.course_id})
    assert review.status_code == 200 and review.json()["mastery"]
    assert (await browser.get("/api/users/me")).json()["user_id"] == "stu-cookie"
    await browser.post("/signout", data={"csrf_token": csrf.group(1)})
    signed_out = await browser.get("/api/users/me")
    await browser.aclose()
    assert signed_out.status_code == 401 and signed_out.json()["error"]["code"] == "missing_token"


async def _open_to_guests(engine: AsyncEngine, course_id: int, **extra: object) -> None:
    meta = {"embed_key": "ek_learn_guests", "allowed_origins": ["https://school.example"], **extra}
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE courses SET metadata = CAST(:m AS JSONB) WHERE course_id = :c"),
            {"m": json.dumps(meta), "c": course_id},
        )


async def test_anonymous_visitors_get_the_page_and_chat_as_guests_where_the_course_allows_them(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, db: AsyncEngine
) -> None:
    open_ = await make_course(sessions, teacher="teacher-guests")
    signed_only = await make_course(sessions, teacher="teacher-guests")
    unshared = await make_course(sessions, teacher="teacher-guests")
    await _open_to_guests(engine, open_.course_id)
    await _open_to_guests(engine, signed_only.course_id, require_signed_identity=True)
    # The widget's budgets: two new visitor identities an hour from this address.
    app = create_app(settings.model_copy(update={"rate_limit_widget_sessions_per_address_hour": 2}))
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 4321))

        def visitor() -> httpx.AsyncClient:
            return httpx.AsyncClient(transport=transport, base_url="http://tutor.test")

        async with visitor() as guest, visitor() as second, visitor() as third:
            url = f"/learn/{open_.course_id}"
            page = await guest.get(url)
            assert page.status_code == 200 and "You are a guest" in page.text and SESSION_COOKIE in page.cookies
            again = await guest.get(url)  # the same guest, not a new identity
            assert again.status_code == 200 and SESSION_COOKIE not in again.cookies
            csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
            assert csrf
            chat = {"course_id": open_.course_id, "message": "quiz me on week 1"}
            assert (await guest.post("/api/chat/stream", json=chat)).status_code == 403  # no CSRF token
            stream = await guest.post("/api/chat/stream", json=chat, headers={"X-CSRF-Token": csrf.group(1)})
            assert stream.status_code == 200 and "event: quiz_question" in stream.text
            mine = await guest.get("/api/chat/sessions")
            assert mine.status_code == 200 and len(mine.json()) == 1
            # A guest of this course is nobody elsewhere: not the API's people routes, not another course.
            assert (await guest.get("/api/users/me")).json()["error"]["code"] == "widget_token_not_allowed"
            other = await guest.get("/api/chat/sessions", params={"course_id": unshared.course_id})
            assert other.status_code == 200 and other.json() == []
            assert (await guest.get(f"/learn/{unshared.course_id}")).status_code == 303

            assert (await second.get(url)).status_code == 200
            limited = await third.get(url)
            assert limited.status_code == 429 and "too many widget sessions from this address" in limited.text

        async with visitor() as stranger:
            for course_id in (signed_only.course_id, unshared.course_id, 999999):
                sent = await stranger.get(f"/learn/{course_id}")
                assert sent.status_code == 303, course_id
                assert sent.headers["location"] == f"/signin?next={quote(f'/learn/{course_id}', safe='')}"
    async with engine.connect() as conn:
        guests = await conn.scalar(
            text("SELECT count(*) FROM users WHERE user_id LIKE :p"), {"p": f"visitor:{open_.course_id}:%"}
        )
    assert guests == 2
