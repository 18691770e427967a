"""Citation chips open the cited PDF page through a short-lived signed link, for that course's visitors only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.chat.conftest import Chat, ChatCourse
from tests.quiz.rows import make_course
from tutor.identity import mint_widget_token
from tutor.review.clock import ManualClock
from tutor.settings import Settings

Auth = Callable[..., dict[str, str]]
ORIGIN = "https://school.example"


async def _cited_link(client: httpx.AsyncClient, headers: dict[str, str], course: ChatCourse) -> dict[str, str]:
    events = await Chat(client, headers, course.course_id).send(course.items[0]["question"])
    citation = next(d for n, d in events if n == "citation")
    assert citation["url"].endswith(f"#page={citation['page_start']}")
    return citation  # type: ignore[no-any-return]


def _visitor(settings: Settings, course_id: int) -> dict[str, str]:
    """A widget visitor's token, as /api/widget/session mints it (one course, one page origin), from that page."""
    token = mint_widget_token(settings, f"visitor:{course_id}:v1", course_id=course_id, origin=ORIGIN, ttl_s=600)
    return {"Authorization": f"Bearer {token}", "Origin": ORIGIN}


async def test_a_citation_link_opens_the_pdf_inline_and_expires(
    clocked_client: httpx.AsyncClient, clock: ManualClock, course: ChatCourse, auth: Auth
) -> None:
    citation = await _cited_link(clocked_client, auth("stu-cite"), course)
    url = citation["url"].split("#")[0]
    opened = await clocked_client.get(url)  # no token: the link is the permission (a new browser tab)
    assert opened.status_code == 200 and opened.headers["content-type"] == "application/pdf"
    assert opened.content.startswith(b"%PDF") and opened.headers["content-disposition"].startswith("inline")

    clock.advance(timedelta(minutes=31))
    expired = await clocked_client.get(url)
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "link_expired"

    # A fresh link, asked for by the course's visitor, works again.
    fresh = await clocked_client.post(
        "/api/widget/source-links",
        headers=auth("stu-cite"),
        json={"course_id": course.course_id, "file_id": citation["file_id"], "page": 2},
    )
    assert fresh.status_code == 200 and fresh.json()["url"].endswith("#page=2")
    assert (await clocked_client.get(fresh.json()["url"].split("#")[0])).status_code == 200


async def test_a_link_altered_to_another_file_course_or_expiry_is_refused(
    clocked_client: httpx.AsyncClient,
    course: ChatCourse,
    auth: Auth,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    citation = await _cited_link(clocked_client, auth("stu-alter"), course)
    # Another course with a file of its own (stored bytes too), readable through its own links.
    other = await make_course(sessions, teacher="teacher-links")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO source_files (file_id, course_id, filename, file_path) "
                "SELECT 'other-file', :c, 'secret.pdf', file_path FROM source_files WHERE file_id = :f"
            ),
            {"c": other.course_id, "f": citation["file_id"]},
        )
    parts = urlsplit(citation["url"].split("#")[0])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    good = f"/api/sources/{course.course_id}/{citation['file_id']}"
    tampered = {
        "another file": (f"/api/sources/{course.course_id}/other-file", query),
        "another course": (f"/api/sources/{other.course_id}/other-file", query),
        "a later expiry": (good, {**query, "exp": str(int(query["exp"]) + 3600)}),
        "a forged signature": (good, {**query, "sig": "0" * 64}),
    }
    for what, (path, params) in tampered.items():
        refused = await clocked_client.get(path, params=params)
        assert refused.status_code == 403, what
        assert refused.json()["error"]["code"] == "link_invalid", what
    assert (await clocked_client.get(good, params=query)).status_code == 200


async def test_only_visitors_of_the_course_get_a_link(
    clocked_client: httpx.AsyncClient, settings: Settings, course: ChatCourse, auth: Auth, engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        file_id = await conn.scalar(
            text("SELECT file_id FROM source_files WHERE course_id = :c"), {"c": course.course_id}
        )
    body = {"course_id": course.course_id, "file_id": file_id, "page": 1}
    mine = await clocked_client.post(
        "/api/widget/source-links", headers=_visitor(settings, course.course_id), json=body
    )
    assert mine.status_code == 200
    # A visitor of another course's widget, and a file that is not this course's, get nothing.
    elsewhere = await clocked_client.post("/api/widget/source-links", headers=_visitor(settings, 999), json=body)
    assert elsewhere.status_code == 404
    missing = await clocked_client.post(
        "/api/widget/source-links", headers=auth("stu-links"), json={**body, "file_id": "not-in-course"}
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "file_not_found"
    anonymous = await clocked_client.post("/api/widget/source-links", json=body)
    assert anonymous.status_code == 401
