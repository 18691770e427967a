"""The teacher's course tables: create, edit, status, reorder, delete with the seed's cascades."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.quiz.rows import make_course

Auth = Callable[..., dict[str, str]]


async def test_students_see_active_courses_only(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    active = await make_course(sessions, status="active")
    draft = await make_course(sessions, status="draft")
    listed = {c["course_id"] for c in (await client.get("/api/courses", headers=auth("stu-1"))).json()}
    assert active.course_id in listed and draft.course_id not in listed
    assert (await client.get(f"/api/courses/{draft.course_id}", headers=auth("stu-1"))).status_code == 404
    teacher = auth("teacher-q", "teacher")
    assert (await client.get(f"/api/courses/{draft.course_id}", headers=teacher)).status_code == 200
    published = await client.patch(f"/api/courses/{draft.course_id}", headers=teacher, json={"status": "active"})
    assert published.json()["status"] == "active"
    assert (await client.get(f"/api/courses/{draft.course_id}", headers=auth("stu-1"))).status_code == 200


async def test_teachers_list_their_own_courses_newest_first(
    client: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    teacher = auth("teacher-new", "teacher")
    ids = [
        (await client.post("/api/courses", headers=teacher, json={"title": f"C{i}"})).json()["course_id"]
        for i in range(3)
    ]
    await client.post("/api/courses", headers=auth("teacher-other", "teacher"), json={"title": "Not mine"})
    listed = [c["course_id"] for c in (await client.get("/api/courses", headers=teacher)).json()]
    assert listed == ids[::-1]
    assert (await client.post("/api/courses", headers=auth("stu-9"), json={"title": "x"})).status_code == 403


async def test_reordering_weeks_renumbers_them(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    course = await make_course(sessions, weeks=3)
    teacher = auth("teacher-q", "teacher")
    new_order = course.module_ids[::-1]
    view = (
        await client.post(
            f"/api/courses/{course.course_id}/modules/reorder", headers=teacher, json={"order": new_order}
        )
    ).json()
    assert [(m["id"], m["week"]) for m in view["modules"]] == [(mid, w) for w, mid in enumerate(new_order, 1)]
    bad = await client.post(f"/api/courses/{course.course_id}/modules/reorder", headers=teacher, json={"order": [1]})
    assert bad.status_code == 422


async def test_editing_content_is_for_the_course_teacher_only(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    course = await make_course(sessions, weeks=1)
    module_id = course.module_ids[0]
    edited = await client.patch(
        f"/api/modules/{module_id}",
        headers=auth("teacher-q", "teacher"),
        json={"title": "Cells, revisited", "learning_objectives": ["Explain osmosis"]},
    )
    assert edited.status_code == 200 and edited.json()["learning_objectives"] == ["Explain osmosis"]
    assert (
        await client.patch(f"/api/modules/{module_id}", headers=auth("teacher-z", "teacher"), json={"title": "x"})
    ).status_code == 404
    assert (
        await client.patch(f"/api/modules/{module_id}", headers=auth("stu-1"), json={"title": "x"})
    ).status_code == 404


async def test_deleting_a_course_removes_everything_under_it(
    client: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    course = await make_course(sessions)
    assert (
        await client.delete(f"/api/courses/{course.course_id}", headers=auth("teacher-z", "teacher"))
    ).status_code == 404
    assert (
        await client.delete(f"/api/courses/{course.course_id}", headers=auth("teacher-q", "teacher"))
    ).status_code == 204
    async with db.connect() as conn:
        for table in ("courses", "modules", "topics", "quizzes", "quiz_questions"):
            assert await conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table
