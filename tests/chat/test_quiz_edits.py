"""A teacher editing a quiz while a student is mid-attempt: the attempt keeps the questions it was started with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.chat.conftest import Chat, ChatCourse
from tests.chat.sse import answer_text

Auth = Callable[..., dict[str, str]]
TEACHER = "teacher-chat"  # the owner of the chat tests' course


def first(events: list[tuple[str, Any]], name: str) -> dict[str, Any]:
    return next(d for n, d in events if n == name)


async def _teacher_view(client: httpx.AsyncClient, auth: Auth, quiz_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/quizzes/{quiz_id}", headers=auth(TEACHER, "teacher"))
    assert response.status_code == 200, response.text
    return list(response.json()["questions"])


async def test_questions_deleted_and_reordered_mid_attempt_change_nothing_the_student_is_asked_or_graded_on(
    chat: Callable[..., Chat], course: ChatCourse, app_client: httpx.AsyncClient, auth: Auth, engine: AsyncEngine
) -> None:
    student = chat("student-edits")
    question = first(await student.send("quiz me on week 1"), "quiz_question")
    quiz_id = question["quiz_id"]
    asked_with = await _teacher_view(app_client, auth, quiz_id)  # what the attempt started with, in order
    assert question["text"] == asked_with[0]["question_text"] and len(asked_with) == question["total"] >= 4

    teacher = auth(TEACHER, "teacher")
    url = f"/api/quizzes/{quiz_id}/questions"
    assert (await app_client.delete(f"{url}/2", headers=teacher)).status_code == 204
    remaining = [q["question_number"] for q in asked_with if q["question_number"] != 2]
    reordered = await app_client.post(f"{url}/reorder", headers=teacher, json={"order": remaining[::-1]})
    assert reordered.status_code == 200, reordered.text
    rewritten = {
        "question_text": "A new first question?",
        "options": {"A": "one", "B": "two", "C": "three", "D": "four"},
        "correct_answer": "A",
    }
    assert (await app_client.put(f"{url}/1", headers=teacher, json=rewritten)).status_code == 200

    # The student answers every question right by the key they were asked with.
    for position, original in enumerate(asked_with, 1):
        assert question["number"] == position and question["text"] == original["question_text"]
        assert question["options"] == original["options"]
        events = await student.send(original["correct_answer"])
        assert events[-1][0] == "done", events[-1]
        feedback = first(events, "quiz_feedback")
        assert feedback["correct"] is True and feedback["correct_answer"] == original["correct_answer"]
        assert feedback["explanation"] == original["explanation"]
        if position < len(asked_with):
            question = first(events, "quiz_question")
    result = first(events, "quiz_result")
    assert result["total_questions"] == len(asked_with) and result["score"] == 100 and result["passed"]
    async with engine.connect() as conn:
        score = await conn.scalar(text("SELECT score FROM quiz_responses WHERE user_id = 'student-edits'"))
    assert score == 100
    # The session goes on as an ordinary chat.
    after = await student.send("What is anemia?")
    assert after[0][1]["mode"] == "answer" and after[-1][0] == "done"


async def test_an_attempt_from_before_snapshots_passes_over_a_deleted_question_and_is_never_wedged(
    chat: Callable[..., Chat], app_client: httpx.AsyncClient, auth: Auth, engine: AsyncEngine
) -> None:
    student = chat("student-legacy")
    question = first(await student.send("quiz me on week 2"), "quiz_question")
    quiz_id, total = question["quiz_id"], question["total"]
    key = {q["question_number"]: q["correct_answer"] for q in await _teacher_view(app_client, auth, quiz_id)}
    async with engine.begin() as conn:  # as the attempt row of an API version without snapshots left it
        await conn.execute(
            text("UPDATE quiz_attempts SET questions = NULL WHERE session_id = :s"), {"s": student.session_id}
        )
    teacher = auth(TEACHER, "teacher")
    assert (await app_client.delete(f"/api/quizzes/{quiz_id}/questions/2", headers=teacher)).status_code == 204

    events = await student.send(key[1])
    assert first(events, "quiz_feedback")["correct"] is True
    question = first(events, "quiz_question")
    assert question["number"] == 3 and question["question_number"] == 3  # question 2 is gone: passed over
    while True:
        events = await student.send(key[question["question_number"]])
        assert events[-1][0] == "done", events[-1]
        if any(n == "quiz_result" for n, _ in events):
            break
        question = first(events, "quiz_question")
    result = first(events, "quiz_result")
    assert result["total_questions"] == total - 1 and result["score"] == 100
    after = await student.send("What is anemia?")
    assert after[0][1]["mode"] == "answer" and after[-1][0] == "done" and answer_text(after)
