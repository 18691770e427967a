"""Quizzes inside the chat, through the real SSE endpoint: ask, answer in words, survive a restart, no double answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from tests.chat.conftest import Chat, ChatCourse
from tests.chat.sse import answer_text
from tutor.settings import Settings


def first(events: list[tuple[str, Any]], name: str) -> dict[str, Any]:
    return next(d for n, d in events if n == name)


async def _key(engine: AsyncEngine, quiz_id: str) -> dict[int, str]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(f"SELECT question_number, correct_answer FROM quiz_questions WHERE quiz_id = '{quiz_id}'")
            )
        ).all()
    return dict(rows)  # type: ignore[arg-type]


async def test_a_whole_quiz_conversation_is_graded_and_recorded_once(
    chat: Callable[..., Chat],
    course: ChatCourse,
    engine: AsyncEngine,
    app_client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
) -> None:
    student = chat("student-quiz")
    events = await student.send("quiz me on week 2")
    assert events[0][1]["mode"] == "quiz"
    question = first(events, "quiz_question")
    assert question["number"] == 1 and set(question["options"]) == {"A", "B", "C", "D"}
    assert "questions" in answer_text(events) and question["text"] in answer_text(events)  # readable as text too
    key = await _key(engine, question["quiz_id"])
    total = question["total"]

    answered = 0
    while True:
        n = question["question_number"]
        wrong = next(letter for letter in "ABCD" if letter != key[n])
        reply = key[n].lower() + ")" if answered % 2 == 0 else question["options"][wrong]  # letters, then words
        events = await student.send(reply)
        feedback = first(events, "quiz_feedback")
        assert feedback["correct"] is (answered % 2 == 0) and feedback["correct_answer"] == key[n]
        assert "p." in (feedback["explanation"] or "")
        answered += 1
        if any(name == "quiz_result" for name, _ in events):
            break
        question = first(events, "quiz_question")
    result = first(events, "quiz_result")
    correct = (total + 1) // 2
    assert result["total_questions"] == total and result["correct_answers"] == correct
    assert result["score"] == round(100 * correct / total)
    assert all(r["link"] for r in result["review"]) and len(result["review"]) == total - correct

    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT answers, score FROM quiz_responses WHERE user_id = 'student-quiz'"))
        ).all()
    assert len(rows) == 1 and len(rows[0][0]) == total and rows[0][1] == result["score"]
    progress = (
        await app_client.get(f"/api/analytics/progress?course_id={course.course_id}", headers=auth("student-quiz"))
    ).json()
    week2 = next(m for m in progress["modules"] if m["week"] == 2)
    assert week2["status"] == ("completed" if result["passed"] else "in_progress")
    # After the quiz, a letter is an ordinary message again.
    assert (await student.send("what is anemia?"))[0][1]["mode"] == "answer"


async def test_a_quiz_survives_an_api_restart_and_resumes_in_a_new_stream(
    settings: Settings, course: ChatCourse, auth: Callable[..., dict[str, str]], engine: AsyncEngine
) -> None:
    async def client_of_a_fresh_app() -> tuple[Any, httpx.AsyncClient]:
        app = create_app(settings)
        return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")

    app, client = await client_of_a_fresh_app()
    async with app.router.lifespan_context(app), client:
        student = Chat(client, auth("student-restart"), course.course_id)
        question = first(await student.send("test me on week 1"), "quiz_question")
        key = await _key(engine, question["quiz_id"])
        await student.send(key[question["question_number"]])
        session_id = student.session_id

    app, client = await client_of_a_fresh_app()  # a new process: nothing of the quiz is in memory
    async with app.router.lifespan_context(app), client:
        student = Chat(client, auth("student-restart"), course.course_id)
        student.session_id = session_id
        events = await student.send("resume")
        assert first(events, "quiz_question")["number"] == 2


async def test_two_tabs_answering_the_same_question_count_once(chat: Callable[..., Chat], engine: AsyncEngine) -> None:
    tab1 = chat("student-tabs")
    question = first(await tab1.send("quiz me on week 1"), "quiz_question")
    tab2 = chat("student-tabs")
    tab2.session_id = tab1.session_id
    both = await asyncio.gather(tab1.send("A", question_number=1), tab2.send("B", question_number=1))
    feedbacks = [events for events in both if any(n == "quiz_feedback" for n, _ in events)]
    assert len(feedbacks) == 1
    other = next(events for events in both if events not in feedbacks)
    assert "already answered" in answer_text(other)
    async with engine.connect() as conn:
        answers = await conn.scalar(text(f"SELECT answers FROM quiz_attempts WHERE session_id = '{tab1.session_id}'"))
    assert list(answers) == [str(question["question_number"])]


async def test_a_side_question_is_answered_without_leaving_the_quiz(chat: Callable[..., Chat]) -> None:
    student = chat("student-side")
    question = first(await student.send("quiz me on week 1"), "quiz_question")
    events = await student.send("what does a frameshift mutation mean?")
    assert events[0][1]["mode"] == "quiz"
    # Answered from the course, unless every answering sentence would give the open question away.
    assert "citation" in [n for n, _ in events] or "give away the quiz question" in answer_text(events)
    again = first(events, "quiz_question")
    assert again["number"] == question["number"] and "Back to the quiz" in answer_text(events)


async def test_asking_for_a_quiz_that_does_not_exist_is_said_plainly(chat: Callable[..., Chat]) -> None:
    events = await chat("student-noquiz").send("quiz me on week 42")
    assert "week 42 has no quiz" in answer_text(events) and events[-1][0] == "done"


async def test_a_side_question_about_this_topic_is_answered_about_the_open_question_without_its_answer(
    chat: Callable[..., Chat], engine: AsyncEngine
) -> None:
    student = chat("student-this-topic")
    question = first(await student.send("quiz me on week 1"), "quiz_question")
    events = await student.send("What does the course say about this topic?")
    said = answer_text(events)
    reply = said.split("Back to the quiz")[0]
    assert events[0][1]["mode"] == "quiz" and "couldn't find" not in reply
    assert "citation" in [n for n, _ in events]
    # Quoted from the open question's topic: the reply shares its terms.
    asked = {w for w in question["text"].lower().split() if len(w) > 5}
    assert asked & set(reply.lower().split())
    async with engine.connect() as conn:
        correct = (
            await conn.execute(
                text(
                    "SELECT options->>correct_answer FROM quiz_questions "
                    f"WHERE quiz_id = '{question['quiz_id']}' AND question_number = {question['question_number']}"
                )
            )
        ).scalar_one()
    # The side answer does not give the quiz away: not in what is said, nor in the snippets of what is cited
    # (the topic's defining sentence is quoted with the answer blanked out).
    assert correct.lower() not in reply.lower()
    assert all(correct.lower() not in d["snippet"].lower() for n, d in events if n == "citation")
    assert first(events, "quiz_question")["number"] == question["number"]
