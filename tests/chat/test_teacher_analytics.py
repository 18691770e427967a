"""What a teacher learns about a course's students: progress week by week, who is stuck, which questions the
course could not answer (grouped), and their courses at a glance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.chat.conftest import Chat, ChatCourse

Auth = Callable[..., dict[str, str]]
TEACHER = ("teacher-chat", "teacher")


async def week_one_quiz(client: httpx.AsyncClient, auth: Auth, course: ChatCourse) -> dict[str, Any]:
    teacher = auth(*TEACHER)
    quizzes = (await client.get("/api/quizzes", params={"course_id": course.course_id}, headers=teacher)).json()
    first = next(q for q in quizzes if q["module_id"] is not None and q["question_count"])
    quiz: dict[str, Any] = (await client.get(f"/api/quizzes/{first['quiz_id']}", headers=teacher)).json()
    return quiz


def answers(quiz: dict[str, Any], *, right: bool) -> dict[str, str]:
    def wrong(q: dict[str, Any]) -> str:
        return next(letter for letter in q["options"] if letter != q["correct_answer"])

    return {str(q["question_number"]): q["correct_answer"] if right else wrong(q) for q in quiz["questions"]}


async def test_teachers_see_each_students_progress_week_by_week(
    chat: Callable[..., Chat], course: ChatCourse, app_client: httpx.AsyncClient, auth: Auth
) -> None:
    await chat("student-w1").send(course.items[0]["question"])
    quiz = await week_one_quiz(app_client, auth, course)
    submitted = await app_client.post(
        f"/api/quizzes/{quiz['quiz_id']}/responses",
        headers=auth("student-w2"),
        json={"answers": answers(quiz, right=True)},
    )
    assert submitted.status_code == 201

    url = f"/api/analytics/courses/{course.course_id}/weekly-progress"
    progress = (await app_client.get(url, headers=auth(*TEACHER))).json()
    full = (await app_client.get(f"/api/courses/{course.course_id}", headers=auth(*TEACHER))).json()
    assert [(w["module_id"], w["week"]) for w in progress["weeks"]] == [(m["id"], m["week"]) for m in full["modules"]]
    by_user = {s["user_id"]: s for s in progress["students"]}
    assert "teacher-chat" not in by_user

    asked = by_user["student-w1"]["weeks"]
    assert len(asked) == len(full["modules"])
    touched = [w for w in asked if w["topics_touched"]]
    assert touched and all(w["status"] == "in_progress" and w["topics_total"] >= w["topics_touched"] for w in touched)
    assert all(w["status"] == "not_started" for w in asked if not w["topics_touched"])

    passed = {w["module_id"]: w for w in by_user["student-w2"]["weeks"]}[quiz["module_id"]]
    assert passed["status"] == "completed" and passed["progress_percentage"] == 100 and passed["best_score"] == 100
    assert by_user["student-w2"]["overall_progress"] == round(100 / len(full["modules"]), 2)

    for outsider in (auth("student-w1"), auth("teacher-other", "teacher")):
        assert (await app_client.get(url, headers=outsider)).status_code == 404


async def test_students_without_progress_for_days_or_failing_a_quiz_again_and_again_are_stuck(
    chat: Callable[..., Chat],
    course: ChatCourse,
    app_client: httpx.AsyncClient,
    auth: Auth,
    engine: AsyncEngine,
) -> None:
    for user in ("student-idle", "student-busy"):
        await chat(user).send(course.items[1]["question"])
    async with engine.begin() as conn:  # student-idle's activity, ten days back
        for table, column in (("user_progress", "last_accessed"), ("chat_history", "timestamp")):
            await conn.execute(
                text(f"UPDATE {table} SET {column} = {column} - interval '10 days' WHERE user_id = 'student-idle'")
            )
    quiz = await week_one_quiz(app_client, auth, course)
    for _ in range(3):
        failed = await app_client.post(
            f"/api/quizzes/{quiz['quiz_id']}/responses",
            headers=auth("student-failing"),
            json={"answers": answers(quiz, right=False)},
        )
        assert failed.status_code == 201 and failed.json()["passed"] is False

    async def stuck(**params: int) -> dict[str, dict[str, Any]]:
        response = await app_client.get(
            f"/api/analytics/courses/{course.course_id}/stuck-students", params=params, headers=auth(*TEACHER)
        )
        assert response.status_code == 200, response.text
        return {s["user_id"]: s for s in response.json()}

    found = await stuck()  # defaults: 7 days, 3 failed attempts
    assert "student-busy" not in found
    idle = found["student-idle"]
    assert idle["reasons"] == ["no_progress"] and idle["days_without_progress"] >= 10
    assert datetime.fromisoformat(idle["last_progress"]) < datetime.utcnow() - timedelta(days=9)
    failing = found["student-failing"]
    assert failing["reasons"] == ["failed_quiz"]
    assert failing["failed_quizzes"] == [
        {"quiz_id": quiz["quiz_id"], "title": quiz["title"], "failed_attempts": 3, "best_score": 0}
    ]

    stricter = await stuck(inactive_days=11, failed_attempts=4)
    assert "student-idle" not in stricter and "student-failing" not in stricter

    await app_client.post(
        f"/api/quizzes/{quiz['quiz_id']}/responses",
        headers=auth("student-failing"),
        json={"answers": answers(quiz, right=True)},
    )
    assert "student-failing" not in await stuck()  # passed it in the end
    bad = await app_client.get(
        f"/api/analytics/courses/{course.course_id}/stuck-students?inactive_days=0", headers=auth(*TEACHER)
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


async def test_unanswerable_questions_are_grouped_by_wording_with_counts(
    chat: Callable[..., Chat], course: ChatCourse, app_client: httpx.AsyncClient, auth: Auth
) -> None:
    asked = {
        "student-g1": ["How do black holes evaporate?", "Who won the football world cup in 1998?"],
        "student-g2": ["how do black holes evaporate?"],
        "student-g3": ["Why do black holes evaporate"],
    }
    for user, questions in asked.items():
        student = chat(user)
        for question in questions:
            await student.send(question)
    url = f"/api/analytics/courses/{course.course_id}/content-gap-groups"
    groups = (await app_client.get(url, headers=auth(*TEACHER))).json()
    top = groups[0]
    assert top["example"] == "how do black holes evaporate?" and top["asked"] == 3
    assert {(q["question"], q["asked"]) for q in top["questions"]} == {
        ("how do black holes evaporate?", 2),
        ("why do black holes evaporate", 1),
    }
    assert top["closest_topics"] and top["last_asked"]
    football = [g for g in groups if "football" in g["example"]]
    assert [(g["asked"], len(g["questions"])) for g in football] == [(1, 1)]
    assert (await app_client.get(url, headers=auth("teacher-other", "teacher"))).status_code == 404


async def test_a_teacher_sees_their_courses_with_counts_and_last_activity(
    chat: Callable[..., Chat], course: ChatCourse, app_client: httpx.AsyncClient, auth: Auth
) -> None:
    await chat("student-sum").send(course.items[2]["question"])
    teacher = auth(*TEACHER)
    empty = (await app_client.post("/api/courses", headers=teacher, json={"title": "Next term"})).json()
    summaries = (await app_client.get("/api/analytics/courses", headers=teacher)).json()
    assert [s["course_id"] for s in summaries] == [empty["course_id"], course.course_id]  # newest first

    full = (await app_client.get(f"/api/courses/{course.course_id}", headers=teacher)).json()
    weekly = (
        await app_client.get(f"/api/analytics/courses/{course.course_id}/weekly-progress", headers=teacher)
    ).json()
    quizzes = len(full["course_quizzes"]) + sum(len(m["quizzes"]) for m in full["modules"])
    summary = summaries[1]
    assert (summary["weeks"], summary["topics"], summary["quizzes"], summary["files"], summary["students"]) == (
        len(full["modules"]),
        sum(len(m["topics"]) for m in full["modules"]),
        quizzes,
        len(full["files"]),
        len(weekly["students"]),
    )
    assert summary["students"] >= 1 and summary["title"] == full["title"]
    assert datetime.fromisoformat(summary["last_activity"]) > datetime.utcnow() - timedelta(minutes=5)
    assert summaries[0] | {"created_at": None} == {
        "course_id": empty["course_id"],
        "title": "Next term",
        "description": None,
        "status": "draft",
        "created_by": "teacher-chat",
        "created_at": None,
        "weeks": 0,
        "topics": 0,
        "quizzes": 0,
        "files": 0,
        "students": 0,
        "last_activity": None,
    }
    assert (await app_client.get("/api/analytics/courses", headers=auth("teacher-other", "teacher"))).json() == []
    assert (await app_client.get("/api/analytics/courses", headers=auth("student-sum"))).status_code == 403
