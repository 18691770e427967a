"""Transcripts, analytics and embed settings in the console, over a course with students' chats and quiz results."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.console.conftest import Browser, csrf_of
from tests.quiz.rows import make_course

XSS = "<img src=x onerror=alert(1)>"


async def _chat(engine: AsyncEngine, course_id: int) -> None:
    """Two students' sessions: a cited answer, a quiz turn, and questions the course could not answer."""
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO source_files (file_id, course_id, filename) VALUES ('file_x', :c, 'cells.pdf')"),
            {"c": course_id},
        )
        topic = await conn.scalar(
            text("SELECT t.id FROM topics t JOIN modules m ON m.id = t.module_id WHERE m.course_id = :c LIMIT 1"),
            {"c": course_id},
        )
    cited = {"number": 1, "file_id": "file_x", "filename": "cells.pdf", "page_start": 3}
    # A file and a topic deleted since the answer: named, never linked (the links would 404).
    gone = {"number": 2, "file_id": "file_gone", "filename": "old.pdf", "page_start": 9}
    citations = [
        {**cited, "topic_id": topic, "topic_title": "Cell parts"},
        {**gone, "topic_id": 999999, "topic_title": "Old"},
    ]
    rows = [
        ("stu-a", "sess-a", "user", f"what is osmosis {XSS}", {}),
        ("stu-a", "sess-a", "assistant", "Osmosis moves water [1].", {"citations": citations, "grounded": True}),
        ("stu-a", "sess-a", "user", "quiz me on week 1", {}),
        (
            "stu-a",
            "sess-a",
            "assistant",
            "Quiz finished.",
            {"mode": "quiz", "quiz_result": {"score": 25, "passed": False}},
        ),
        ("stu-b", "sess-b", "user", "what is a black hole", {}),
        ("stu-b", "sess-b", "assistant", "I couldn't find this.", {"content_gap": True}),
        ("stu-b", "sess-b2", "user", "What is a black hole?", {}),
        ("stu-b", "sess-b2", "assistant", "I couldn't find this.", {"content_gap": True}),
        ("stu-b", "sess-b2", "user", f"tell me about quasars {XSS}", {}),
        ("stu-b", "sess-b2", "assistant", "I couldn't find this.", {"content_gap": True}),
    ]
    async with engine.begin() as conn:
        for user in ("stu-a", "stu-b"):
            await conn.execute(text("INSERT INTO users (user_id) VALUES (:u) ON CONFLICT DO NOTHING"), {"u": user})
        last_user_message = 0
        for user, session_id, kind, message, meta in rows:
            if kind == "assistant" and meta.get("content_gap"):
                meta = {**meta, "reply_to": last_user_message}
            new_id = await conn.scalar(
                text(
                    "INSERT INTO chat_history (user_id, course_id, session_id, message_type, message, metadata) "
                    "VALUES (:u, :c, :s, :k, :m, CAST(:meta AS JSONB)) RETURNING id"
                ),
                {"u": user, "c": course_id, "s": session_id, "k": kind, "m": message, "meta": json.dumps(meta)},
            )
            if kind == "user":
                last_user_message = int(new_id)


async def test_transcripts_filter_open_a_session_with_citations_and_quiz_events_and_export_escaped(
    browser_session: Browser, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    rows = await make_course(sessions, teacher="t-ins")
    await _chat(engine, rows.course_id)
    teacher = await browser_session("t-ins", "teacher")
    base = f"/teach/courses/{rows.course_id}/transcripts"

    listing = await teacher.get(base, params={"student": "", "from": "", "to": "", "q": ""})
    assert listing.status_code == 200 and "sess-a" in listing.text and "sess-b2" in listing.text
    assert XSS not in listing.text and "&lt;img src=x onerror=alert(1)&gt;" in listing.text
    only_a = await teacher.get(base, params={"student": "stu-a"})
    assert "sess-a" in only_a.text and "sess-b" not in only_a.text
    by_text = await teacher.get(base, params={"q": "black hole"})
    assert "sess-b" in by_text.text and "sess-a" not in by_text.text
    future = await teacher.get(base, params={"from": "2999-01-01"})
    assert "No session matches" in future.text
    assert (await teacher.get(base, params={"from": "yesterday"})).status_code == 422

    session_page = await teacher.get(f"{base}/sess-a")
    assert session_page.status_code == 200 and XSS not in session_page.text
    assert 'href="/teach/files/file_x#page=3"' in session_page.text and "cells.pdf, p. 3" in session_page.text
    assert f'href="/teach/courses/{rows.course_id}#topic-' in session_page.text
    assert "old.pdf, p. 9" in session_page.text and "file_gone" not in session_page.text
    assert "#topic-999999" not in session_page.text and 'Old <span class="muted">(since removed' in session_page.text
    assert "Quiz finished: score 25%, not passed" in session_page.text
    assert (await teacher.get(f"{base}/sess-nope")).status_code == 404

    # The export links are the JSON API's export, opened with the console's session cookie.
    export = await teacher.get(_link(session_page.text, "Export this student's sessions (CSV)"))
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "what is osmosis" in export.text and "black hole" not in export.text
    lines = (await teacher.get(_link(listing.text, "JSON Lines"))).text.splitlines()
    assert len(lines) == 10 and json.loads(lines[0])["session_id"]
    assert (await teacher.get(_link(future.text, "JSON Lines"))).text == ""  # the page's date filter, carried over


def _link(page: str, text: str) -> str:
    found = re.search(r'<a href="([^"]+)">' + re.escape(text) + "</a>", page)
    assert found, f"no link {text!r}"
    assert found.group(1).startswith("/api/chat/transcripts/export?")
    return html.unescape(found.group(1))


async def test_analytics_show_progress_scores_missed_questions_grouped_gaps_and_stuck_students(
    browser_session: Browser,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    app_client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
) -> None:
    rows = await make_course(sessions, teacher="t-ana")
    await _chat(engine, rows.course_id)
    quiz = rows.quiz_ids[0]
    wrong = {n: next(letter for letter in "ABCD" if letter != key) for n, key in rows.answers[0].items()}
    for _ in range(3):  # stu-a fails week 1's quiz three times, never passing
        failed = await app_client.post(f"/api/quizzes/{quiz}/responses", json={"answers": wrong}, headers=auth("stu-a"))
        assert failed.status_code == 201
    passed = await app_client.post(
        f"/api/quizzes/{quiz}/responses", json={"answers": rows.answers[0]}, headers=auth("stu-b")
    )
    assert passed.status_code == 201
    teacher = await browser_session("t-ana", "teacher")
    page = await teacher.get(f"/teach/courses/{rows.course_id}/analytics")
    assert page.status_code == 200
    html = page.text
    assert "<svg" in html and 'role="img"' in html and "Average progress per week" in html
    assert "failed “Week 1 quiz” 3 times without passing" in html.split("stu-a</a>:", 1)[1].split("</li>")[0]
    assert "stu-b" in html and "quiz 100%" in html  # stu-b passed week 1
    assert f"#q-{quiz}-1" in html and "Scores in Week 1 quiz" in html
    # The two black-hole questions are one gap, asked twice; the student's markup is shown as text.
    assert "asked 2 time(s)" in html and XSS not in html


async def test_the_embed_page_is_a_console_page_with_the_snippet_origins_and_a_new_key(
    browser_session: Browser, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    rows = await make_course(sessions, teacher="t-emb")
    teacher = await browser_session("t-emb", "teacher")
    old = await teacher.get(f"/embed/{rows.course_id}")
    assert old.status_code == 303 and old.headers["location"] == f"/teach/courses/{rows.course_id}/embed"
    page = await teacher.get(old.headers["location"])
    assert page.status_code == 200 and "/widget.js" in page.text and 'data-key="ek_' not in page.text  # escaped
    token = csrf_of(page.text)
    saved = await teacher.post(
        f"/teach/courses/{rows.course_id}/embed/origins",
        data={"csrf_token": token, "origins": "https://school.example/\n\nhttps://other.example"},
    )
    assert saved.status_code == 303
    bad = await teacher.post(
        f"/teach/courses/{rows.course_id}/embed/origins", data={"csrf_token": token, "origins": "javascript:alert(1)"}
    )
    assert bad.status_code == 422 and "is not an origin" in bad.text
    async with engine.connect() as conn:
        meta = await conn.scalar(text(f"SELECT metadata FROM courses WHERE course_id = {rows.course_id}"))
    assert meta["allowed_origins"] == ["https://school.example", "https://other.example"]
    await teacher.post(f"/teach/courses/{rows.course_id}/embed/rotate", data={"csrf_token": token})
    async with engine.connect() as conn:
        rotated = await conn.scalar(text(f"SELECT metadata FROM courses WHERE course_id = {rows.course_id}"))
    assert rotated["embed_key"] != meta["embed_key"]


async def test_most_missed_questions_follow_the_question_asked_after_a_teacher_reorders(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], sessions: async_sessionmaker[AsyncSession]
) -> None:
    rows = await make_course(sessions, teacher="t-order")
    teacher = auth("t-order", "teacher")
    quiz = rows.quiz_ids[0]
    key = rows.answers[0]
    first_text = (await client.get(f"/api/quizzes/{quiz}", headers=teacher)).json()["questions"][0]["question_text"]
    # Two students miss question 1 only; then the teacher moves it to the end.
    missed_first = {**key, "1": next(letter for letter in "ABCD" if letter != key["1"])}
    for student in ("stu-o1", "stu-o2"):
        sent = await client.post(
            f"/api/quizzes/{quiz}/responses", headers=auth(student), json={"answers": missed_first}
        )
        assert sent.status_code == 201
    order = [*range(2, len(key) + 1), 1]
    assert (
        await client.post(f"/api/quizzes/{quiz}/questions/reorder", headers=teacher, json={"order": order})
    ).is_success
    # A response after the reorder: the same question (now number 4) missed once more.
    moved = {**key, str(len(key)): next(letter for letter in "ABCD" if letter != key["1"])}
    moved.update({str(new): key[str(old)] for new, old in enumerate(order, 1) if old != 1})
    sent = await client.post(f"/api/quizzes/{quiz}/responses", headers=auth("stu-o3"), json={"answers": moved})
    assert sent.status_code == 201 and sent.json()["correct_answers"] == len(key) - 1

    missed = (await client.get(f"/api/analytics/courses/{rows.course_id}/missed-questions", headers=teacher)).json()
    assert [(m["question_number"], m["question_text"], m["missed"], m["attempts"]) for m in missed] == [
        (len(key), first_text, 3, 3)
    ]
