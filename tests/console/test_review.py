"""Fixing a generated course in the console: sources at the page, edits, moves, quiz review; students see it at once."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.chat.sse import parse_sse
from tests.console.conftest import Browser, csrf_of
from tests.factories import course_pdf, ingest_course, sciq_chapters
from tutor.settings import Settings


async def test_a_teacher_fixes_a_generated_course_and_students_see_the_changes_at_once(
    browser_session: Browser,
    app_client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> None:
    course_id = await ingest_course(
        settings, sessions, [("biology.pdf", course_pdf(sciq_chapters(2, 2, 2)))], teacher="t-review"
    )
    teacher = await browser_session("t-review", "teacher")
    page = await teacher.get(f"/teach/courses/{course_id}")
    assert page.status_code == 200
    token = csrf_of(page.text)
    course = (await app_client.get(f"/api/courses/{course_id}", headers=auth("t-review", "teacher"))).json()
    week1 = course["modules"][0]
    quiz = week1["quizzes"][0]
    assert "Week 1:" in page.text and quiz["questions"][0]["question_text"].split("_____")[0][:30] in page.text

    # Each topic links to its PDF at the page it came from; the console opens the PDF with the session cookie.
    link = re.search(r'href="(/teach/files/file_[0-9a-f]+)#page=(\d+)"', page.text)
    assert link and int(link.group(2)) >= 1
    pdf = await teacher.get(link.group(1))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.headers["content-disposition"].startswith("inline")

    # Edit question 1's text: a student who starts the week's quiz through the chat gets the new text.
    q1 = quiz["questions"][0]
    options = {f"option_{k.lower()}": v for k, v in q1["options"].items()}
    edited = await teacher.post(
        f"/teach/quizzes/{quiz['quiz_id']}/questions/1/edit",
        data={
            "csrf_token": token,
            "question_text": "Which term did the teacher mean here?",
            "correct_answer": q1["correct_answer"],
            "explanation": "Checked by the teacher.",
            **options,
        },
    )
    assert edited.status_code == 303
    started = await app_client.post(
        "/api/chat/stream",
        json={"course_id": course_id, "message": "quiz me on week 1"},
        headers=auth("s-review", "student"),
    )
    question = next(d for n, d in parse_sse(started.text) if n == "quiz_question")
    assert question["text"] == "Which term did the teacher mean here?"

    # A question that breaks the rules (two identical options) is refused in words; nothing changes.
    broken = await teacher.post(
        f"/teach/quizzes/{quiz['quiz_id']}/questions/2/edit",
        data={"csrf_token": token, "question_text": "Same?", "correct_answer": "A", **dict.fromkeys(options, "same")},
    )
    assert broken.status_code == 422 and "<h1>That did not work</h1>" in broken.text

    # Mark question 2 reviewed; the edited question 1 already counts as reviewed.
    await teacher.post(f"/teach/quizzes/{quiz['quiz_id']}/questions/2/reviewed", data={"csrf_token": token})
    async with engine.connect() as conn:
        reviewed = (
            await conn.execute(
                text("SELECT question_number FROM quiz_questions WHERE quiz_id = :q AND reviewed_at IS NOT NULL"),
                {"q": quiz["quiz_id"]},
            )
        ).scalars()
        assert sorted(reviewed) == [1, 2]

    # Move week 1's first topic down, and week 2 before week 1; edit week 1's title and objectives.
    first_topic, second_topic = week1["topics"][0]["id"], week1["topics"][1]["id"]
    await teacher.post(f"/teach/topics/{first_topic}/move", data={"csrf_token": token, "direction": "down"})
    await teacher.post(
        f"/teach/modules/{week1['id']}/edit",
        data={"csrf_token": token, "title": "Cells, revised", "description": "", "objectives": "Name a cell part\n\n"},
    )
    await teacher.post(
        f"/teach/modules/{course['modules'][1]['id']}/move", data={"csrf_token": token, "direction": "up"}
    )
    after = (await app_client.get(f"/api/courses/{course_id}", headers=auth("t-review", "teacher"))).json()
    assert [m["id"] for m in after["modules"]] == [course["modules"][1]["id"], week1["id"]]
    moved = after["modules"][1]
    assert (
        moved["week"] == 2
        and moved["title"] == "Cells, revised"
        and moved["learning_objectives"] == ["Name a cell part"]
    )
    assert [t["id"] for t in moved["topics"]][:2] == [second_topic, first_topic]

    # Regenerating the week's quiz writes new, unreviewed questions into the same quiz.
    regenerated = await teacher.post(f"/teach/modules/{week1['id']}/regenerate-quiz", data={"csrf_token": token})
    assert regenerated.status_code == 303
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT question_text, reviewed_at FROM quiz_questions WHERE quiz_id = :q"), {"q": quiz["quiz_id"]}
            )
        ).all()
    assert rows and all(r.reviewed_at is None for r in rows)
    assert all(r.question_text.startswith("Fill in the blank") for r in rows)

    # Add a question by hand: it lands at the end, reviewed.
    added = await teacher.post(
        f"/teach/quizzes/{quiz['quiz_id']}/questions",
        data={
            "csrf_token": token,
            "question_text": "What do cells divide by?",
            "option_a": "mitosis",
            "option_b": "osmosis",
            "option_c": "diffusion",
            "option_d": "photosynthesis",
            "correct_answer": "A",
            "explanation": "",
        },
    )
    assert added.status_code == 303 and f"#q-{quiz['quiz_id']}-{len(rows) + 1}" in added.headers["location"]
    final = await teacher.get(f"/teach/courses/{course_id}")
    assert "What do cells divide by?" in final.text and "Cells, revised" in final.text
