"""The student's page /learn/{course_id}: signed in through a link, it shows the outline with the student's own
progress, the week quizzes and what is due for review, escapes course text, and keeps out who may not read it."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.quiz.rows import make_course

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
    assert re.search(r'data-token="eyJ[^"]+"', html)  # the chat's bearer token, for this course only
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
