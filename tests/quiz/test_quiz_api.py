"""Quizzes over REST: who sees answers, server-side grading, no double counting, teachers' edits."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.quiz.rows import make_course

Auth = Callable[..., dict[str, str]]


async def test_students_see_questions_without_answers_and_teachers_with(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    course = await make_course(sessions)
    listed = (await client.get(f"/api/quizzes?course_id={course.course_id}", headers=auth("stu-a"))).json()
    assert [q["quiz_id"] for q in listed] == course.quiz_ids and listed[0]["question_count"] == 4
    student = (await client.get(f"/api/quizzes/{course.quiz_ids[0]}", headers=auth("stu-a"))).json()
    assert all(q["correct_answer"] is None and q["explanation"] is None for q in student["questions"])
    teacher = (await client.get(f"/api/quizzes/{course.quiz_ids[0]}", headers=auth("teacher-q", "teacher"))).json()
    assert [q["correct_answer"] for q in teacher["questions"]] == list(course.answers[0].values())
    other = await client.get(f"/api/quizzes/{course.quiz_ids[0]}", headers=auth("teacher-z", "teacher"))
    assert other.status_code == 200  # an active course is readable, its answers are not
    assert all(q["correct_answer"] is None for q in other.json()["questions"])


async def test_a_submitted_attempt_is_graded_on_the_server_and_updates_progress(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    course = await make_course(sessions)
    key = course.answers[0]
    wrong = {n: ("A" if letter != "A" else "B") for n, letter in key.items()}
    student = auth("stu-b")
    failed = await client.post(
        f"/api/quizzes/{course.quiz_ids[0]}/responses",
        headers=student,
        json={"answers": {**wrong, "1": key["1"]}, "time_taken": 42},
    )
    assert failed.status_code == 201, failed.text
    assert failed.json()["score"] == 25 and failed.json()["correct_answers"] == 1 and not failed.json()["passed"]
    progress = (await client.get(f"/api/analytics/progress?course_id={course.course_id}", headers=student)).json()
    assert progress["modules"][0]["status"] == "in_progress" and progress["modules"][0]["progress_percentage"] == 25
    assert progress["completed_modules"] == 0

    passed = await client.post(f"/api/quizzes/{course.quiz_ids[0]}/responses", headers=student, json={"answers": key})
    assert passed.json()["score"] == 100 and passed.json()["passed"]
    progress = (await client.get(f"/api/analytics/progress?course_id={course.course_id}", headers=student)).json()
    week1, week2 = progress["modules"]
    assert week1["status"] == "completed" and week1["progress_percentage"] == 100 and week1["completion_date"]
    assert week2["status"] == "not_started"
    assert progress["total_modules"] == 2 and progress["completed_modules"] == 1 and progress["overall_progress"] == 50

    # A later failed attempt does not undo a completed module.
    await client.post(f"/api/quizzes/{course.quiz_ids[0]}/responses", headers=student, json={"answers": wrong})
    progress = (await client.get(f"/api/analytics/progress?course_id={course.course_id}", headers=student)).json()
    assert progress["modules"][0]["status"] == "completed"
    mine = (await client.get(f"/api/quizzes/{course.quiz_ids[0]}/responses", headers=student)).json()
    assert [r["score"] for r in mine] == [0, 100, 25]


async def test_a_resubmitted_attempt_counts_once(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    course = await make_course(sessions)
    body = {"answers": course.answers[0], "attempt_key": "tab-1-attempt"}
    url = f"/api/quizzes/{course.quiz_ids[0]}/responses"
    assert (await client.post(url, headers=auth("stu-c"), json=body)).status_code == 201
    again = await client.post(url, headers=auth("stu-c"), json=body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "attempt_already_submitted"
    assert len((await client.get(url, headers=auth("stu-c"))).json()) == 1


async def test_students_with_long_ids_sharing_a_prefix_each_submit_with_the_same_key(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    course = await make_course(sessions)
    # Widget visitors: `visitor:<course>:<id>` ids that differ only past the 100 characters of an attempt's id.
    prefix = f"visitor:{course.course_id}:"
    visitors = [prefix + "v" * (99 - len(prefix)) + str(i) for i in (1, 2)]
    assert visitors[0] != visitors[1] and len(visitors[0]) == 100
    url = f"/api/quizzes/{course.quiz_ids[0]}/responses"
    body = {"answers": course.answers[0], "attempt_key": "k" * 60}
    for visitor in visitors:
        response = await client.post(url, headers=auth(visitor), json=body)
        assert response.status_code == 201, response.text
        assert (await client.post(url, headers=auth(visitor), json=body)).status_code == 409  # still counts once
        assert [r["user_id"] for r in (await client.get(url, headers=auth(visitor))).json()] == [visitor]


async def test_answers_that_do_not_exist_are_refused(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    course = await make_course(sessions)
    url = f"/api/quizzes/{course.quiz_ids[0]}/responses"
    bad_question = await client.post(url, headers=auth("stu-d"), json={"answers": {"9": "A"}})
    assert bad_question.status_code == 422 and "question 9" in bad_question.json()["error"]["message"]
    bad_letter = await client.post(url, headers=auth("stu-d"), json={"answers": {"1": "E"}})
    assert bad_letter.status_code == 422
    assert (await client.get(url, headers=auth("stu-d"))).json() == []


async def test_students_see_only_their_own_attempts_and_teachers_see_all(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    course = await make_course(sessions)
    url = f"/api/quizzes/{course.quiz_ids[0]}/responses"
    for student in ("stu-e", "stu-f"):
        await client.post(url, headers=auth(student), json={"answers": course.answers[0]})
    assert {r["user_id"] for r in (await client.get(url, headers=auth("stu-e"))).json()} == {"stu-e"}
    assert {r["user_id"] for r in (await client.get(url, headers=auth("teacher-q", "teacher"))).json()} == {
        "stu-e",
        "stu-f",
    }
    peek = await client.get(
        f"/api/analytics/progress?course_id={course.course_id}&user_id=stu-f", headers=auth("stu-e")
    )
    assert peek.status_code == 404


async def test_teachers_edit_quizzes_with_validation(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    course = await make_course(sessions, weeks=1)
    teacher = auth("teacher-q", "teacher")
    created = await client.post(
        "/api/quizzes", headers=teacher, json={"course_id": course.course_id, "title": "Extra", "quiz_type": "practice"}
    )
    assert created.status_code == 201, created.text
    quiz_id = created.json()["quiz_id"]
    good = {
        "question_text": "Which organelle holds DNA?",
        "options": {"A": "nucleus", "B": "ribosome", "C": "wall", "D": "vacuole"},
        "correct_answer": "A",
        "difficulty": "easy",
    }
    for text in ("first?", "second?", "third?"):
        assert (
            await client.post(
                f"/api/quizzes/{quiz_id}/questions", headers=teacher, json={**good, "question_text": text}
            )
        ).status_code == 201
    three_options = {**good, "options": {"A": "x", "B": "y", "C": "z"}}
    bad = await client.post(f"/api/quizzes/{quiz_id}/questions", headers=teacher, json=three_options)
    assert bad.status_code == 422 and "A, B, C and D" in bad.json()["error"]["message"]
    same = await client.post(f"/api/quizzes/{quiz_id}/questions", headers=teacher, json={**good, "question_number": 2})
    assert same.status_code == 409
    reordered = await client.post(
        f"/api/quizzes/{quiz_id}/questions/reorder", headers=teacher, json={"order": [3, 1, 2]}
    )
    assert [q["question_text"] for q in reordered.json()["questions"]] == ["third?", "first?", "second?"]
    assert (await client.delete(f"/api/quizzes/{quiz_id}/questions/1", headers=teacher)).status_code == 204
    replaced = await client.put(
        f"/api/quizzes/{quiz_id}/questions/2", headers=teacher, json={**good, "correct_answer": "B"}
    )
    assert replaced.json()["correct_answer"] == "B"
    foreign = await client.delete(f"/api/quizzes/{quiz_id}", headers=auth("teacher-z", "teacher"))
    assert foreign.status_code == 404
    student = await client.post(f"/api/quizzes/{quiz_id}/questions", headers=auth("stu-g"), json=good)
    assert student.status_code == 404
    assert (await client.delete(f"/api/quizzes/{quiz_id}", headers=teacher)).status_code == 204


async def test_teachers_see_score_distribution_and_most_missed_questions(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    course = await make_course(sessions, weeks=1)
    key = course.answers[0]
    url = f"/api/quizzes/{course.quiz_ids[0]}/responses"
    await client.post(url, headers=auth("stu-h"), json={"answers": key})
    await client.post(url, headers=auth("stu-i"), json={"answers": {**key, "3": "A" if key["3"] != "A" else "B"}})
    teacher = auth("teacher-q", "teacher")
    base = f"/api/analytics/courses/{course.course_id}"
    (scores,) = (await client.get(f"{base}/scores", headers=teacher)).json()
    assert scores["attempts"] == 2 and {(b["low"], b["count"]) for b in scores["buckets"]} == {(70, 1), (90, 1)}
    missed = (await client.get(f"{base}/missed-questions", headers=teacher)).json()
    assert [(m["question_number"], m["missed"], m["attempts"]) for m in missed] == [(3, 1, 2)]
    students = (await client.get(f"{base}/students", headers=teacher)).json()
    assert [s["user_id"] for s in students] == ["stu-h", "stu-i"]
    assert (await client.get(f"{base}/scores", headers=auth("stu-h"))).status_code == 404
