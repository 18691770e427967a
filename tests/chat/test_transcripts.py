"""Teachers read, search, page and export their students' transcripts, and see the course's content gaps."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import httpx

from tests.chat.conftest import Chat, ChatCourse

Auth = Callable[..., dict[str, str]]


async def test_teachers_page_search_read_and_export_transcripts_of_their_course(
    chat: Callable[..., Chat], course: ChatCourse, app_client: httpx.AsyncClient, auth: Auth
) -> None:
    teacher = auth("teacher-chat", "teacher")
    ids = []
    for n in range(3):
        student = chat(f"student-t{n}")
        await student.send(course.items[n + 3]["question"])
        ids.append(student.session_id)
    base = f"/api/chat/transcripts?course_id={course.course_id}"
    seen: list[str] = []
    cursor = None
    while True:
        page = (
            await app_client.get(base + "&limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=teacher)
        ).json()
        seen += [s["session_id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert set(ids) <= set(seen) and len(seen) == len(set(seen))  # every session once, across pages
    assert seen.index(ids[2]) < seen.index(ids[0])  # newest first

    one = (await app_client.get(base + "&user_id=student-t1", headers=teacher)).json()["items"]
    assert [s["session_id"] for s in one] == [ids[1]]
    word = course.items[5]["question"].split()[-1].strip("?")
    found = (await app_client.get(base + f"&q={word}", headers=teacher)).json()["items"]
    assert ids[2] in [s["session_id"] for s in found]

    full = (await app_client.get(f"/api/chat/transcripts/{ids[0]}", headers=teacher)).json()
    assert full["user_id"] == "student-t0" and full["messages"][1]["metadata"]["citations"]

    jsonl = await app_client.get(
        f"/api/chat/transcripts/export?course_id={course.course_id}&format=jsonl", headers=teacher
    )
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert {r["session_id"] for r in rows} >= set(ids) and any(r["citations"] for r in rows)
    exported = await app_client.get(
        f"/api/chat/transcripts/export?course_id={course.course_id}&format=csv", headers=teacher
    )
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(table) == len(rows) and table[0].keys() >= {"session_id", "message_type", "message"}


async def test_students_and_other_teachers_cannot_read_transcripts(
    chat: Callable[..., Chat], course: ChatCourse, app_client: httpx.AsyncClient, auth: Auth
) -> None:
    student = chat("student-private")
    await student.send("What is anemia?")
    for who in (auth("student-private"), auth("teacher-other", "teacher")):
        assert (
            await app_client.get(f"/api/chat/transcripts?course_id={course.course_id}", headers=who)
        ).status_code == 404
        assert (await app_client.get(f"/api/chat/transcripts/{student.session_id}", headers=who)).status_code == 404
        export = await app_client.get(f"/api/chat/transcripts/export?course_id={course.course_id}", headers=who)
        assert export.status_code == 404


async def test_questions_the_course_cannot_answer_show_up_as_content_gaps(
    chat: Callable[..., Chat], course: ChatCourse, app_client: httpx.AsyncClient, auth: Auth
) -> None:
    for user in ("student-g1", "student-g2"):
        await chat(user).send("How do black holes evaporate?")
    gaps = (
        await app_client.get(
            f"/api/analytics/courses/{course.course_id}/content-gaps", headers=auth("teacher-chat", "teacher")
        )
    ).json()
    top = gaps[0]
    assert top["question"] == "how do black holes evaporate?" and top["asked"] == 2 and top["closest_topics"]
