"""Every route of the API, three outsiders: nobody reaches what is not theirs (404 for others' ids, 403 for roles).

The table below names the expectation for every operation of the OpenAPI schema; a new route that is not in
the table fails `test_every_route_is_in_the_matrix`, so no route can skip this review.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.quiz.rows import make_course
from tutor.identity import mint_widget_token
from tutor.settings import Settings

Auth = Callable[..., dict[str, str]]
# Public: health, and the widget's bootstrap (it authenticates by embed key and page origin, and is budgeted per
# address and course: tests/api/test_widget_tokens.py).
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/api/widget/session")}
# Signed links: the signature is the permission (tests/chat/test_source_links.py).
PUBLIC |= {("GET", "/api/sources/{course_id}/{file_id}")}
# The LTI tool's public keys: LMSs fetch them without credentials (tests/lti).
PUBLIC |= {("GET", "/lti/jwks.json"), ("GET", "/.well-known/jwks.json")}
# What a widget token of the course itself may use (its own sessions, links to its citations); everything else
# refuses it.
WIDGET_REACHES = {("GET", "/api/chat/sessions"), ("POST", "/api/widget/source-links")}
WIDGET_ORIGIN = "https://school.example"


@dataclass(frozen=True)
class World:
    course_id: int
    module_id: int
    topic_id: int
    quiz_id: str
    file_id: str
    job_id: str
    session_id: str
    message_id: int


@pytest.fixture
async def world(
    sessions: async_sessionmaker[AsyncSession], db: AsyncEngine, client: httpx.AsyncClient, auth: Auth
) -> World:
    """Teacher T's active course, student A's chat session, quiz attempt and progress in it."""
    rows = await make_course(sessions, teacher="teacher-T", weeks=1)
    await client.get("/api/users/me", headers=auth("student-A"))
    await client.post(
        f"/api/quizzes/{rows.quiz_ids[0]}/responses", headers=auth("student-A"), json={"answers": rows.answers[0]}
    )
    async with db.begin() as conn:
        topic_id = await conn.scalar(text(f"SELECT id FROM topics WHERE module_id = {rows.module_ids[0]}"))
        await conn.execute(
            text(
                f"INSERT INTO source_files (file_id, course_id, filename, file_path) "
                f"VALUES ('file-T', {rows.course_id}, 'private.pdf', 'x/private.pdf')"
            )
        )
        await conn.execute(
            text("INSERT INTO job_queue (job_id, job_type, created_by) VALUES ('job-T', 'pdf_processing', 'teacher-T')")
        )
        message_id = await conn.scalar(
            text(
                f"INSERT INTO chat_history (user_id, course_id, session_id, message_type, message) VALUES "
                f"('student-A', {rows.course_id}, 'sess-A', 'assistant', 'my private answer') RETURNING id"
            )
        )
    return World(
        rows.course_id,
        rows.module_ids[0],
        int(topic_id),
        rows.quiz_ids[0],
        "file-T",
        "job-T",
        "sess-A",
        int(message_id),
    )


DENY = "deny"  # 403 or 404
ALLOW = "allow"  # 2xx; the check function then proves nothing private came back
Check = Callable[[World, httpx.Response], None]


def no_answers(w: World, r: httpx.Response) -> None:
    assert '"correct_answer":"' not in r.text.replace(" ", "") and 'explanation":"' not in r.text.replace(" ", "")


def not_containing(*needles: str) -> Check:
    def check(w: World, r: httpx.Response) -> None:
        body = r.text
        for needle in needles:
            assert needle.format(w=w) not in body, needle

    return check


def anything(w: World, r: httpx.Response) -> None:
    return None


# (method, path) -> (fill the request, expectation for student B, expectation for teacher O)
Spec = tuple[Callable[[World], dict[str, Any]], tuple[str, Check | None], tuple[str, Check | None]]
quiz_body = {"question_text": "q?", "options": {"A": "a", "B": "b", "C": "c", "D": "d"}, "correct_answer": "A"}
MATRIX: dict[tuple[str, str], Spec] = {
    ("POST", "/api/upload-pdfs"): (
        lambda w: {
            "data": {"course_id": w.course_id},
            "files": [("files", ("a.pdf", b"%PDF-1.4\n%%EOF", "application/pdf"))],
        },
        (DENY, None),
        (DENY, None),
    ),
    ("GET", "/api/jobs/{job_id}"): (lambda w: {}, (DENY, None), (DENY, None)),
    # A one-time browser sign-in link for the token's own user, never another's (tests/console).
    ("POST", "/api/sign-in-links"): (lambda w: {}, (ALLOW, anything), (ALLOW, anything)),
    ("GET", "/api/jobs"): (lambda w: {}, (ALLOW, not_containing("{w.job_id}")), (ALLOW, not_containing("{w.job_id}"))),
    ("GET", "/api/courses"): (lambda w: {}, (ALLOW, anything), (ALLOW, not_containing('"course_id":{w.course_id}'))),
    ("POST", "/api/courses"): (lambda w: {"json": {"title": "Mine"}}, (DENY, None), (ALLOW, anything)),
    ("GET", "/api/courses/{course_id}"): (lambda w: {}, (ALLOW, no_answers), (ALLOW, no_answers)),
    ("PATCH", "/api/courses/{course_id}"): (lambda w: {"json": {"title": "x"}}, (DENY, None), (DENY, None)),
    ("DELETE", "/api/courses/{course_id}"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/courses/{course_id}/embed"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("PUT", "/api/courses/{course_id}/embed"): (
        lambda w: {"json": {"allowed_origins": ["https://evil.example"]}},
        (DENY, None),
        (DENY, None),
    ),
    ("POST", "/api/courses/{course_id}/embed/rotate"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("POST", "/api/courses/{course_id}/modules/reorder"): (
        lambda w: {"json": {"order": [w.module_id]}},
        (DENY, None),
        (DENY, None),
    ),
    ("PATCH", "/api/modules/{module_id}"): (lambda w: {"json": {"title": "x"}}, (DENY, None), (DENY, None)),
    ("POST", "/api/modules/{module_id}/topics/reorder"): (
        lambda w: {"json": {"order": [w.topic_id]}},
        (DENY, None),
        (DENY, None),
    ),
    ("GET", "/api/topics/{topic_id}"): (lambda w: {}, (ALLOW, anything), (ALLOW, anything)),
    ("PATCH", "/api/topics/{topic_id}"): (lambda w: {"json": {"title": "x"}}, (DENY, None), (DENY, None)),
    ("GET", "/api/files"): (lambda w: {"params": {"course_id": w.course_id}}, (DENY, None), (DENY, None)),
    ("GET", "/api/files/{file_id}/download"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("DELETE", "/api/files/{file_id}"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/quizzes"): (lambda w: {"params": {"course_id": w.course_id}}, (ALLOW, anything), (ALLOW, anything)),
    ("POST", "/api/quizzes"): (
        lambda w: {"json": {"course_id": w.course_id, "title": "x"}},
        (DENY, None),
        (DENY, None),
    ),
    ("GET", "/api/quizzes/{quiz_id}"): (lambda w: {}, (ALLOW, no_answers), (ALLOW, no_answers)),
    ("PATCH", "/api/quizzes/{quiz_id}"): (lambda w: {"json": {"title": "x"}}, (DENY, None), (DENY, None)),
    ("DELETE", "/api/quizzes/{quiz_id}"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/quizzes/{quiz_id}/responses"): (
        lambda w: {},
        (ALLOW, not_containing("student-A")),
        (ALLOW, not_containing("student-A")),
    ),
    ("POST", "/api/quizzes/{quiz_id}/responses"): (
        lambda w: {"json": {"answers": {"1": "A"}}},
        (ALLOW, not_containing("student-A")),
        (ALLOW, not_containing("student-A")),
    ),
    ("POST", "/api/quizzes/{quiz_id}/questions"): (lambda w: {"json": quiz_body}, (DENY, None), (DENY, None)),
    ("PUT", "/api/quizzes/{quiz_id}/questions/{number}"): (lambda w: {"json": quiz_body}, (DENY, None), (DENY, None)),
    ("DELETE", "/api/quizzes/{quiz_id}/questions/{number}"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("POST", "/api/quizzes/{quiz_id}/questions/reorder"): (
        lambda w: {"json": {"order": [1, 2, 3, 4]}},
        (DENY, None),
        (DENY, None),
    ),
    ("GET", "/api/analytics/progress"): (
        lambda w: {"params": {"course_id": w.course_id, "user_id": "student-A"}},
        (DENY, None),
        (DENY, None),
    ),
    ("GET", "/api/analytics/courses/{course_id}/scores"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/analytics/courses/{course_id}/missed-questions"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/analytics/courses/{course_id}/students"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/analytics/courses/{course_id}/content-gaps"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/analytics/courses/{course_id}/content-gap-groups"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/analytics/courses/{course_id}/weekly-progress"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/analytics/courses/{course_id}/stuck-students"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/analytics/courses"): (
        lambda w: {},
        (DENY, None),
        (ALLOW, not_containing('"course_id":{w.course_id}', "student-A")),
    ),
    ("GET", "/api/analytics/courses/{course_id}/mastery"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/review"): (
        lambda w: {"params": {"course_id": w.course_id}},
        (ALLOW, not_containing("student-A")),
        (ALLOW, not_containing("student-A")),
    ),
    # Whoever may read the course is cited its files in the chat, and may open them.
    ("POST", "/api/widget/source-links"): (
        lambda w: {"json": {"course_id": w.course_id, "file_id": w.file_id, "page": 1}},
        (ALLOW, anything),
        (ALLOW, anything),
    ),
    ("GET", "/api/users/me"): (
        lambda w: {},
        (ALLOW, not_containing("student-A")),
        (ALLOW, not_containing("student-A")),
    ),
    ("GET", "/api/users"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("PATCH", "/api/users/{user_id}"): (lambda w: {"json": {"role": "teacher"}}, (DENY, None), (DENY, None)),
    # LMS registrations are for admins; a roster sync for the course's teachers (tests/lti).
    ("GET", "/api/lti/platforms"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("POST", "/api/lti/platforms"): (
        lambda w: {
            "json": {
                "issuer": "https://lms.example",
                "client_id": "c",
                "deployment_ids": ["d"],
                "jwks_url": "https://lms.example/k",
                "auth_login_url": "https://lms.example/a",
                "token_url": "https://lms.example/t",
            }
        },
        (DENY, None),
        (DENY, None),
    ),
    ("DELETE", "/api/lti/platforms/{platform_id}"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("POST", "/api/lti/courses/{course_id}/roster-sync"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/chat/transcripts"): (lambda w: {"params": {"course_id": w.course_id}}, (DENY, None), (DENY, None)),
    ("GET", "/api/chat/transcripts/export"): (
        lambda w: {"params": {"course_id": w.course_id}},
        (DENY, None),
        (DENY, None),
    ),
    ("GET", "/api/chat/transcripts/{session_id}"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("POST", "/api/chat/stream"): (
        lambda w: {"json": {"course_id": w.course_id, "message": "hi", "session_id": w.session_id}},
        (DENY, None),
        (DENY, None),
    ),
    ("GET", "/api/chat/sessions"): (
        lambda w: {},
        (ALLOW, not_containing("{w.session_id}")),
        (ALLOW, not_containing("{w.session_id}")),
    ),
    ("GET", "/api/chat/sessions/{session_id}"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("GET", "/api/chat/messages/{message_id}"): (lambda w: {}, (DENY, None), (DENY, None)),
    ("POST", "/v1/chat/completions"): (
        lambda w: {
            "json": {
                "model": f"course-{w.course_id}",
                "session_id": w.session_id,
                "messages": [{"role": "user", "content": "hi"}],
            }
        },
        (DENY, None),
        (DENY, None),
    ),
}


def _path(template: str, w: World) -> str:
    return template.format(
        job_id=w.job_id,
        course_id=w.course_id,
        module_id=w.module_id,
        topic_id=w.topic_id,
        file_id=w.file_id,
        quiz_id=w.quiz_id,
        number=1,
        user_id="student-A",
        session_id=w.session_id,
        message_id=w.message_id,
        platform_id=1,
    )


async def test_every_route_is_in_the_matrix(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operations = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert operations - PUBLIC - set(MATRIX) == set(), "add the new routes to MATRIX"
    assert set(MATRIX) - operations == set()


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
async def test_outsiders_never_reach_what_is_not_theirs(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, world: World, method: str, path: str
) -> None:
    fill, for_student, for_teacher = MATRIX[(method, path)]
    # A visitor of the course's own widget, calling from the widget's page: only the widget's routes open.
    visitor = mint_widget_token(settings, "visitor:w:1", course_id=world.course_id, origin=WIDGET_ORIGIN, ttl_s=600)
    for_widget = (ALLOW, for_student[1]) if (method, path) in WIDGET_REACHES else (DENY, None)
    for headers, (expectation, check) in (
        (auth("student-B"), for_student),
        (auth("teacher-O", "teacher"), for_teacher),
        ({"Authorization": f"Bearer {visitor}", "Origin": WIDGET_ORIGIN}, for_widget),
    ):
        response = await client.request(method, _path(path, world), headers=headers, **fill(world))
        if expectation == DENY:
            assert response.status_code in (403, 404), (method, path, response.status_code, response.text[:300])
            assert response.json()["error"]["code"]
        else:
            assert response.status_code < 300, (method, path, response.status_code, response.text[:300])
            assert check is not None
            check(world, response)
    anonymous = await client.request(method, _path(path, world), **fill(world))
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "missing_token"
