"""Learning records in a real LRS (Ralph): what a student does in the chat and over REST arrives as valid xAPI
statements that match the quiz taken, and an LRS outage delays them without losing any."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.chat.sse import parse_sse
from tests.conftest import poll
from tests.factories import sciq_items, unique_user
from tests.xapi.conftest import TUTOR_URL
from tests.xapi.lrs import Ralph

VERB = "http://adlnet.gov/expapi/verbs/"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


def agent(user: str, home_page: str = TUTOR_URL) -> str:
    return json.dumps({"objectType": "Agent", "account": {"homePage": home_page, "name": user}})


def arrived(ralph: Ralph, actor: str, expected: int) -> list[dict[str, Any]]:
    """The actor's statements in the LRS once there are `expected` of them (or more: then the test says so)."""

    def stored() -> list[dict[str, Any]] | None:
        found = ralph.statements(agent=actor)
        return found if len(found) >= expected else None

    found: list[dict[str, Any]] = poll(stored, timeout=60, message=f"{expected} statements of {actor} in the LRS")
    return found


def by_verb(statements: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for s in statements:
        found.setdefault(s["verb"]["id"].removeprefix(VERB), []).append(s)
    return found


async def wait_for(check: Callable[[], Awaitable[Any]], *, timeout: float, message: str) -> Any:
    """`tests.conftest.poll` of an async check: the event loop runs the check while a thread waits."""
    loop = asyncio.get_running_loop()
    return await asyncio.to_thread(
        poll, lambda: asyncio.run_coroutine_threadsafe(check(), loop).result(), timeout=timeout, message=message
    )


def first(events: list[tuple[str, Any]], name: str) -> dict[str, Any]:
    return next(d for n, d in events if n == name)


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def _module_progress(engine: AsyncEngine, user: str, quiz_id: str) -> tuple[int, int, str]:
    [(module_id, percentage, status)] = await _rows(
        engine,
        "SELECT p.module_id, p.progress_percentage, p.status FROM user_progress p JOIN quizzes q "
        "ON q.module_id = p.module_id WHERE q.quiz_id = :quiz AND p.user_id = :user AND p.topic_id IS NULL",
        quiz=quiz_id,
        user=user,
    )
    return module_id, percentage, status


async def test_a_question_and_a_chat_quiz_arrive_in_the_lrs_as_valid_statements_of_that_quiz(
    delivery: subprocess.Popen[bytes],
    xapi_client: httpx.AsyncClient,
    course: int,
    ralph: Ralph,
    engine: AsyncEngine,
    auth: Callable[..., dict[str, str]],
) -> None:
    user = unique_user("learner")
    headers, session_id = auth(user), None

    async def say(message: str) -> list[tuple[str, Any]]:
        nonlocal session_id
        body = {"course_id": course, "message": message, "session_id": session_id}
        response = await xapi_client.post("/api/chat/stream", json=body, headers=headers)
        assert response.status_code == 200, response.text
        events = parse_sse(response.text)
        session_id = events[0][1]["session_id"]
        assert events[-1][0] == "done", events[-1]
        return events

    question = sciq_items()[0]["question"]
    await say(question)
    asked_quiz = first(await say("quiz me on week 1"), "quiz_question")
    quiz_id = asked_quiz["quiz_id"]
    key = dict(
        await _rows(engine, "SELECT question_number, correct_answer FROM quiz_questions WHERE quiz_id = :q", q=quiz_id)
    )
    given: dict[int, str] = {}
    while True:  # the first right, the second skipped, the rest wrong
        n = asked_quiz["question_number"]
        if asked_quiz["number"] == 2:
            reply = "skip"
        else:
            given[n] = key[n] if asked_quiz["number"] == 1 else next(x for x in "ABCD" if x != key[n])
            reply = given[n]
        events = await say(reply)
        if any(name == "quiz_result" for name, _ in events):
            result = first(events, "quiz_result")
            break
        asked_quiz = first(events, "quiz_question")
    total = len(key)
    module_id, percentage, status = await _module_progress(engine, user, quiz_id)

    expected = 1 + len(given) + 3  # asked; each answer; completed, passed or failed, progressed
    statements = arrived(ralph, agent(user), expected)

    assert len(statements) == expected and ralph.problems(statements) == []
    verbs = by_verb(statements)
    [asked] = verbs["asked"]
    assert asked["result"]["response"] == question
    assert asked["object"]["id"] == f"{TUTOR_URL}/api/courses/{course}"
    answered = {int(s["object"]["id"].rsplit("/", 1)[1]): s for s in verbs["answered"]}
    assert {n: s["result"]["response"] for n, s in answered.items()} == given
    for n, s in answered.items():
        assert s["result"]["success"] is (given[n] == key[n])
        assert s["object"]["definition"]["correctResponsesPattern"] == [key[n]]
        assert s["context"]["contextActivities"]["parent"][0]["id"] == f"{TUTOR_URL}/api/quizzes/{quiz_id}"
    [completed] = verbs["completed"]
    outcome = "passed" if result["passed"] else "failed"
    [verdict] = verbs[outcome]
    for s in (completed, verdict):
        assert s["object"]["id"] == f"{TUTOR_URL}/api/quizzes/{quiz_id}"
        score = s["result"]["score"]
        assert (score["raw"], score["max"]) == (result["correct_answers"], total) == (1, total)
        assert s["result"]["success"] is result["passed"]
    [progressed] = verbs["progressed"]
    assert progressed["object"]["id"] == f"{TUTOR_URL}/api/modules/{module_id}"
    assert progressed["result"]["extensions"][PROGRESS] == percentage
    assert progressed["result"]["completion"] is (status == "completed")
    # One attempt, one registration: its answers and result are grouped as one.
    assert len({s["context"]["registration"] for s in [*answered.values(), completed, verdict]}) == 1


async def test_statements_wait_while_the_lrs_is_down_and_arrive_when_it_is_back(
    delivery: subprocess.Popen[bytes],
    xapi_client: httpx.AsyncClient,
    course: int,
    ralph: Ralph,
    engine: AsyncEngine,
    auth: Callable[..., dict[str, str]],
) -> None:
    # A student who came from the LMS through LTI: their statements name them as the LMS knows them.
    user, lms, sub = unique_user("offline"), "https://canvas.school.test", unique_user("lms-sub")
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO users (user_id, role, metadata) VALUES (:u, 'student', CAST(:m AS jsonb))"),
            {"u": user, "m": json.dumps({"lti": {"iss": lms, "sub": sub}})},
        )
    [(quiz_id,)] = await _rows(engine, "SELECT quiz_id FROM quizzes WHERE course_id = :c LIMIT 1", c=course)
    key = dict(
        await _rows(engine, "SELECT question_number, correct_answer FROM quiz_questions WHERE quiz_id = :q", q=quiz_id)
    )
    [(before,)] = await _rows(engine, "SELECT coalesce(max(id), 0) FROM outbox_messages")
    ralph.stop()
    try:
        answers = {str(n): letter for n, letter in key.items()}
        response = await xapi_client.post(
            f"/api/quizzes/{quiz_id}/responses", json={"answers": answers, "time_taken": 42}, headers=auth(user)
        )
        assert response.status_code == 201, response.text
        assert response.json()["passed"] is True

        expected = len(key) + 3  # each answer; completed, passed, progressed
        tried = f"SELECT count(*) FROM outbox_messages WHERE id > {before} AND attempts > 0 AND delivered_at IS NULL"

        async def kept() -> bool:
            return bool((await _rows(engine, tried))[0][0] == expected)

        await wait_for(kept, timeout=60, message="the statements tried and kept while the LRS is down")
    finally:
        ralph.start()

    statements = arrived(ralph, agent(sub, lms), expected)
    assert len(statements) == expected  # as valid as those of the chat: built by the same code
    verbs = by_verb(statements)
    assert {s["result"]["response"] for s in verbs["answered"]} <= set("ABCD")
    assert all(s["result"]["success"] for s in verbs["answered"])
    [passed] = verbs["passed"]
    assert passed["result"]["score"]["raw"] == len(key) and passed["result"]["duration"] == "PT42S"
    pending = f"SELECT count(*) FROM outbox_messages WHERE id > {before} AND delivered_at IS NULL"

    async def all_delivered() -> bool:
        return bool((await _rows(engine, pending))[0][0] == 0)

    await wait_for(all_delivered, timeout=30, message="every statement recorded as delivered")

    # A worker that died after the LRS stored a statement, before it recorded that, leaves it to be sent again:
    # the LRS still holds it once.
    async with engine.begin() as conn:
        await conn.execute(
            text(f"UPDATE outbox_messages SET delivered_at = NULL, next_attempt_at = now() WHERE id > {before}")
        )
    await wait_for(all_delivered, timeout=30, message="the statements sent again")
    assert sorted(s["id"] for s in ralph.statements(agent=agent(sub, lms))) == sorted(s["id"] for s in statements)


async def test_nothing_is_recorded_without_an_lrs(
    app_client: httpx.AsyncClient, course: int, engine: AsyncEngine, auth: Callable[..., dict[str, str]]
) -> None:
    [(quiz_id,)] = await _rows(engine, "SELECT quiz_id FROM quizzes WHERE course_id = :c LIMIT 1", c=course)
    [(before,)] = await _rows(engine, "SELECT count(*) FROM outbox_messages")
    headers = auth(unique_user("unrecorded"))
    chat = await app_client.post(
        "/api/chat/stream", json={"course_id": course, "message": sciq_items()[1]["question"]}, headers=headers
    )
    submitted = await app_client.post(
        f"/api/quizzes/{quiz_id}/responses", json={"answers": {"1": "A"}}, headers=headers
    )
    assert (chat.status_code, submitted.status_code) == (200, 201)
    assert await _rows(engine, "SELECT count(*) FROM outbox_messages") == [(before,)]
