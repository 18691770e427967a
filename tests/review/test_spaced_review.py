"""Spaced review through the real SSE endpoint and REST, with a clock the test moves forward (no sleeps).

A student's quiz answers schedule each question; the next session opens with what is due; "review" runs a
short quiz of exactly the due questions; answering them well pushes them weeks away; the teacher sees
mastery per topic and student.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.chat.conftest import Chat, ChatCourse
from tests.chat.sse import answer_text
from tests.quiz.rows import make_course
from tutor.review.clock import ManualClock

Auth = Callable[..., dict[str, str]]


def first(events: list[tuple[str, Any]], name: str) -> dict[str, Any]:
    return next(d for n, d in events if n == name)


def named(events: list[tuple[str, Any]], name: str) -> list[dict[str, Any]]:
    return [d for n, d in events if n == name]


async def _key(engine: AsyncEngine, quiz_id: str) -> dict[int, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT question_number, correct_answer FROM quiz_questions WHERE quiz_id = :q"), {"q": quiz_id}
        )
        return {int(n): str(letter) for n, letter in rows.all()}


async def _take_quiz(student: Chat, engine: AsyncEngine, request: str, right: Callable[[int], bool]) -> dict[str, Any]:
    """Answer the quiz `request` starts; question i (1-based) right when right(i). Returns the quiz_result."""
    events = await student.send(request)
    question = first(events, "quiz_question")
    key = await _key(engine, question["quiz_id"])
    while True:
        n = question["question_number"]
        letter = key[n] if right(question["number"]) else next(x for x in "ABCD" if x != key[n])
        events = await student.send(letter)
        if named(events, "quiz_result"):
            return first(events, "quiz_result")
        question = first(events, "quiz_question")


async def test_missed_questions_come_back_the_next_day_and_review_reschedules_them(
    clocked_client: httpx.AsyncClient, clock: ManualClock, course: ChatCourse, engine: AsyncEngine, auth: Auth
) -> None:
    headers = auth("stu-review")
    student = Chat(clocked_client, headers, course.course_id)
    result = await _take_quiz(student, engine, "quiz me on week 1", right=lambda i: i == 1)
    total, missed = result["total_questions"], result["total_questions"] - 1
    assert total >= 2

    # Straight after the quiz nothing is due: a new session opens without a review notice.
    events = await Chat(clocked_client, headers, course.course_id).send("what is anemia?")
    assert not named(events, "review_due") and "to review" not in answer_text(events)
    events = await Chat(clocked_client, headers, course.course_id).send("review")
    assert "nothing is due for review now" in answer_text(events) and not named(events, "quiz_question")

    # A day later the missed questions are due, and the first turn of a session says so before answering.
    clock.advance(timedelta(days=1, hours=1))
    events = await Chat(clocked_client, headers, course.course_id).send("what is anemia?")
    due = first(events, "review_due")
    assert due["questions"] == missed
    said = answer_text(events)
    n = len(due["topics"])
    assert said.startswith(f"{n} topic{'s' if n > 1 else ''} to review: ")
    assert all(t["title"] in said for t in due["topics"]) and "Say “review”" in said
    assert named(events, "citation")  # and the question is still answered from the course
    # Only a session's first turn carries it.
    assert not named(await _continuing(clocked_client, headers, course, events).send("and why?"), "review_due")

    # "review" runs a quiz of exactly the due questions; all right, they go days away.
    reviewer = Chat(clocked_client, headers, course.course_id)
    result = await _take_quiz(reviewer, engine, "review", right=lambda i: True)
    assert result["total_questions"] == min(missed, 5) and result["score"] == 100
    assert result["title"].startswith("Review")
    # The review quiz is the student's, not one of the course's quizzes.
    for who in (headers, auth("teacher-chat", "teacher")):
        listed = await clocked_client.get(f"/api/quizzes?course_id={course.course_id}", headers=who)
        assert listed.status_code == 200 and listed.json()
        assert result["quiz_id"] not in {q["quiz_id"] for q in listed.json()}
        assert not any(q["title"].startswith("Review") for q in listed.json())
    clock.advance(timedelta(days=1, hours=1))
    events = await Chat(clocked_client, headers, course.course_id).send("what is anemia?")
    assert not named(events, "review_due") or first(events, "review_due")["questions"] < missed

    # Weeks later everything answered is due again, the once-right question included.
    clock.advance(timedelta(days=60))
    review = (await clocked_client.get(f"/api/review?course_id={course.course_id}", headers=headers)).json()
    assert review["due"]["questions"] == total
    assert {m["answers"] for m in review["mastery"]} and sum(m["answers"] for m in review["mastery"]) == total + min(
        missed, 5
    )


def _continuing(client: httpx.AsyncClient, headers: dict[str, str], course: ChatCourse, events: Any) -> Chat:
    chat = Chat(client, headers, course.course_id)
    chat.session_id = events[0][1]["session_id"]
    return chat


async def test_teachers_see_mastery_per_topic_and_student_from_chat_and_rest_answers(
    clocked_client: httpx.AsyncClient,
    clock: ManualClock,
    sessions: async_sessionmaker[AsyncSession],
    auth: Auth,
) -> None:
    rows = await make_course(sessions, teacher="teacher-m")
    week1, week2 = rows.quiz_ids
    strong, weak = auth("stu-strong"), auth("stu-weak")
    wrong = {n: ("A" if letter != "A" else "B") for n, letter in rows.answers[1].items()}
    for headers, quiz_id, answers in (
        (strong, week1, rows.answers[0]),
        (strong, week2, rows.answers[1]),
        (weak, week2, wrong),
    ):
        response = await clocked_client.post(
            f"/api/quizzes/{quiz_id}/responses", headers=headers, json={"answers": answers}
        )
        assert response.status_code == 201, response.text
    # A chat answer counts too: the weak student gets week 1's first question right in the chat.
    chat = Chat(clocked_client, weak, rows.course_id)
    question = first(await chat.send("quiz me on week 1"), "quiz_question")
    feedback = first(await chat.send(rows.answers[0][str(question["question_number"])]), "quiz_feedback")
    assert feedback["correct"]

    url = f"/api/analytics/courses/{rows.course_id}/mastery"
    mastery = (await clocked_client.get(url, headers=auth("teacher-m", "teacher"))).json()
    by = {(m["user_id"], m["week"]): m for m in mastery}
    assert set(by) == {("stu-strong", 1), ("stu-strong", 2), ("stu-weak", 1), ("stu-weak", 2)}
    assert by[("stu-strong", 2)]["topic_title"] == "Cell parts 2" and by[("stu-strong", 2)]["answers"] == 4
    assert by[("stu-strong", 2)]["mastery"] > 0.9 and by[("stu-weak", 2)]["mastery"] < 0.2
    assert by[("stu-weak", 1)]["answers"] == 1 and by[("stu-weak", 1)]["correct"] == 1
    assert by[("stu-weak", 2)]["due_questions"] == 0  # missed a moment ago: due tomorrow
    clock.advance(timedelta(days=1, hours=1))
    later = (await clocked_client.get(url, headers=auth("teacher-m", "teacher"))).json()
    assert next(m for m in later if m["user_id"] == "stu-weak" and m["week"] == 2)["due_questions"] == 4
    assert next(m for m in later if m["user_id"] == "stu-strong" and m["week"] == 2)["due_questions"] == 0
    one = (await clocked_client.get(f"{url}?user_id=stu-weak", headers=auth("teacher-m", "teacher"))).json()
    assert {m["user_id"] for m in one} == {"stu-weak"}

    # Students and other teachers do not see it.
    for headers in (strong, auth("teacher-other", "teacher")):
        refused = await clocked_client.get(url, headers=headers)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "course_not_found"
