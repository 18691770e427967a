"""Edits of course content refuse a null where a value is required: 422 with the one error shape, nothing changed."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.quiz.rows import make_course

Auth = Callable[..., dict[str, str]]


@pytest.mark.parametrize(
    ("what", "field"),
    [
        ("course", "title"),
        ("course", "status"),
        ("module", "title"),
        ("topic", "title"),
        ("topic", "content"),
        ("quiz", "title"),
    ],
)
async def test_a_required_field_sent_as_null_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession], what: str, field: str
) -> None:
    rows = await make_course(sessions, weeks=1)
    teacher = auth("teacher-q", "teacher")
    course = (await client.get(f"/api/courses/{rows.course_id}", headers=teacher)).json()
    module = course["modules"][0]
    topic = module["topics"][0]
    url, before = {
        "course": (f"/api/courses/{rows.course_id}", course),
        "module": (f"/api/modules/{module['id']}", module),
        "topic": (f"/api/topics/{topic['id']}", topic),
        "quiz": (f"/api/quizzes/{rows.quiz_ids[0]}", module["quizzes"][0]),
    }[what]

    response = await client.patch(url, headers=teacher, json={field: None, "description": "changed"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and field in error["message"]

    after = (await client.get(f"/api/courses/{rows.course_id}", headers=teacher)).json()
    assert after == course  # the description in the same body was not applied either
    assert before[field] is not None


async def test_leaving_a_field_out_keeps_it_and_nullable_fields_can_be_cleared(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rows = await make_course(sessions, weeks=1)
    teacher = auth("teacher-q", "teacher")
    edited = await client.patch(
        f"/api/courses/{rows.course_id}", headers=teacher, json={"description": None, "status": "archived"}
    )
    assert edited.status_code == 200
    assert edited.json() | {"created_at": None} == {
        "course_id": rows.course_id,
        "title": "Cells",
        "description": None,
        "status": "archived",
        "created_by": "teacher-q",
        "created_at": None,
    }
    quiz = await client.patch(f"/api/quizzes/{rows.quiz_ids[0]}", headers=teacher, json={"time_limit": None})
    assert quiz.status_code == 200 and quiz.json()["title"] == "Week 1 quiz"
