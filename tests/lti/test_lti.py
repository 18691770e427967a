"""LTI 1.3 against a simulated LMS over HTTP: login, launch, deep linking, a quiz whose score reaches the LMS's
gradebook exactly once (also after a failed first post), the roster, and every bad launch refused."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from api.cli import app as cli
from db.models import LtiPlatform, User
from tests.conftest import settings_env
from tests.lti.platform import CLIENT_ID, DEPLOYMENT, Platform, new_key, serve
from tests.quiz.rows import make_course
from tutor import outbox
from tutor.identity import mint_token
from tutor.lti import claims as c
from tutor.lti.platforms import PlatformInput, add_platform
from tutor.lti.users import lti_identity, lti_user_id
from tutor.settings import Settings
from tutor.xapi import actor as xapi_actor

Auth = Callable[..., dict[str, str]]
LEARNER = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
INSTRUCTOR = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]
LAUNCH_URL = "http://tutor.test/lti/launch"


@pytest.fixture(scope="module")
def lms() -> Iterator[Platform]:
    platform = Platform()
    server = serve(platform)
    yield platform
    server.shutdown()


@pytest.fixture(scope="module")
async def registered(
    lms: Platform, sessions: async_sessionmaker[AsyncSession], app_client: httpx.AsyncClient
) -> AsyncIterator[Platform]:
    async with sessions() as session, session.begin():
        await add_platform(
            session,
            PlatformInput(
                lms.issuer, CLIENT_ID, f"{lms.url}/jwks", f"{lms.url}/auth", f"{lms.url}/token", [DEPLOYMENT]
            ),
        )
    lms.tool_jwks = (await app_client.get("/lti/jwks.json")).json()
    yield lms
    async with sessions() as session, session.begin():
        await session.execute(delete(LtiPlatform))


async def login(client: httpx.AsyncClient, lms: Platform, hint: str) -> dict[str, str]:
    """The LMS's login initiation; returns the parameters the tool sent to the LMS's authorization endpoint."""
    answer = await client.get(
        "/lti/login",
        params={"iss": lms.issuer, "login_hint": hint, "target_link_uri": LAUNCH_URL, "client_id": CLIENT_ID},
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"{lms.url}/auth?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["redirect_uri"] == LAUNCH_URL and params["response_mode"] == "form_post"
    assert params["scope"] == "openid" and params["response_type"] == "id_token" and params["client_id"] == CLIENT_ID
    return params


async def launch(client: httpx.AsyncClient, token: str, state: str) -> httpx.Response:
    client.cookies.clear()
    return await client.post("/lti/launch", data={"id_token": token, "state": state})


def resource_link(lms: Platform, custom: dict[str, str], lineitem: str | None) -> dict[str, Any]:
    ags = {"scope": [c.SCOPE_LINEITEM, c.SCOPE_SCORE], "lineitems": f"{lms.url}/lineitems"}
    return {
        c.RESOURCE_LINK: {"id": "link-1", "title": "Tutor"},
        c.TARGET_LINK_URI: LAUNCH_URL,
        c.CUSTOM: custom,
        c.AGS_ENDPOINT: {**ags, **({"lineitem": lineitem} if lineitem else {})},
    }


async def deliver_until(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], done: Callable[[], bool]
) -> None:
    settings = settings.model_copy(update={"outbox_retry_s": 0.05})  # a failed post is due again at once
    deadline = time.monotonic() + 15
    while not done():
        assert time.monotonic() < deadline, "the outbox never delivered the score"
        await outbox.deliver_due(sessions, settings)
        await asyncio.sleep(0.05)


async def test_lms_flow_deep_link_quiz_score_once_and_roster(
    client: httpx.AsyncClient,
    registered: Platform,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    settings: Settings,
    auth: Auth,
) -> None:
    lms = registered
    course = await make_course(sessions, teacher="teacher-lti")

    # Admins manage registrations over the JSON API (others may not) and with the CLI.
    other = {
        "issuer": "https://other.lms",
        "client_id": "x",
        "deployment_ids": ["1"],
        "jwks_url": "https://other.lms/k",
        "auth_login_url": "https://other.lms/a",
        "token_url": "https://other.lms/t",
    }
    assert (await client.post("/api/lti/platforms", json=other, headers=auth("t", "teacher"))).status_code == 403
    added = await client.post("/api/lti/platforms", json=other, headers=auth("root", "admin"))
    assert added.status_code == 201, added.text
    listed = (await client.get("/api/lti/platforms", headers=auth("root", "admin"))).json()
    assert {p["issuer"] for p in listed} == {lms.issuer, "https://other.lms"}
    assert (
        await client.delete(f"/api/lti/platforms/{added.json()['id']}", headers=auth("root", "admin"))
    ).status_code == 204
    env = settings_env(settings)
    runner = CliRunner()
    cli_add = [
        "lti",
        "add-platform",
        "--issuer",
        "https://cli.lms",
        "--client-id",
        "c",
        "--deployment-id",
        "d",
        "--jwks-url",
        "https://cli.lms/k",
        "--auth-login-url",
        "https://cli.lms/a",
        "--token-url",
        "https://cli.lms/t",
    ]
    result = await asyncio.to_thread(runner.invoke, cli, cli_add, env=env)
    assert result.exit_code == 0, result.output
    assert "/lti/login" in result.output
    result = await asyncio.to_thread(runner.invoke, cli, ["lti", "list"], env=env)
    assert "https://cli.lms" in result.output
    platform_id = result.output.split("https://cli.lms")[0].split()[-1]
    assert (await asyncio.to_thread(runner.invoke, cli, ["lti", "remove", platform_id], env=env)).exit_code == 0

    # A teacher adds the tool in the LMS: deep linking, and picks week 1's quiz.
    params = await login(client, lms, "teacher-1")
    settings_claim = {
        c.DEEP_LINKING_SETTINGS: {
            "deep_link_return_url": f"{lms.url}/deep_link_return",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "data": "opaque-123",
        }
    }
    token = lms.id_token(
        params["nonce"], sub="teacher-1", roles=INSTRUCTOR, message_type=c.DEEP_LINKING_REQUEST, **settings_claim
    )
    picker = await launch(client, token, params["state"])
    assert picker.status_code == 200, picker.text
    assert f"frame-ancestors {lms.url}" in picker.headers["content-security-policy"]
    assert "Week 1 quiz" in picker.text
    flow = re.search(r'name="flow" value="([^"]+)"', picker.text)
    assert flow is not None
    wrong = await client.post("/lti/deep-link", data={"flow": flow.group(1), "choice": "quiz:someone-elses"})
    assert wrong.status_code == 400 and "pick one of the courses" in wrong.text  # ...and may pick again
    answer = await client.post("/lti/deep-link", data={"flow": flow.group(1), "choice": f"quiz:{course.quiz_ids[0]}"})
    assert answer.status_code == 200, answer.text
    assert f"form-action {lms.url}" in answer.headers["content-security-policy"]
    assert "<script>" not in answer.text and '<script src="/lti/autosubmit.js"' in answer.text
    form = re.search(
        r'<form method="post" action="([^"]+)" data-autosubmit>\s*<input type="hidden" name="JWT" value="([^"]+)"',
        answer.text,
    )
    assert form is not None and html.unescape(form.group(1)) == f"{lms.url}/deep_link_return"
    deep = lms.verify_tool_jwt(form.group(2), lms.issuer)
    assert deep["iss"] == CLIENT_ID and deep[c.MESSAGE_TYPE] == c.DEEP_LINKING_RESPONSE and deep[c.VERSION] == "1.3.0"
    assert deep[c.DEPLOYMENT_ID] == DEPLOYMENT and deep[c.DEEP_LINKING_DATA] == "opaque-123"
    [item] = deep[c.CONTENT_ITEMS]
    assert item["type"] == "ltiResourceLink" and item["url"] == LAUNCH_URL
    assert item["custom"] == {"course_id": str(course.course_id), "quiz_id": course.quiz_ids[0]}
    # ...the flow works once.
    again = await client.post("/lti/deep-link", data={"flow": flow.group(1), "choice": f"course:{course.course_id}"})
    assert again.status_code == 400
    # The LMS makes the link and its gradebook column from the content item.
    lineitem = f"{lms.url}/lineitems/1"
    lms.line_items.append({**item["lineItem"], "id": lineitem})

    # A student opens the link: signed in, sent to the course, and takes both weeks' quizzes.
    params = await login(client, lms, "student-1")
    token = lms.id_token(
        params["nonce"],
        sub="student-1",
        roles=LEARNER,
        message_type=c.RESOURCE_LINK_REQUEST,
        **resource_link(lms, item["custom"], lineitem),
    )
    opened = await launch(client, token, params["state"])
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"] == f"/learn/{course.course_id}"
    page = await client.get(opened.headers["location"])  # the session cookie works
    assert page.status_code == 200, page.text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None  # the page calls the JSON API with its session cookie and this token
    student = lti_user_id(lms.issuer, "student-1")
    async with sessions() as session:
        row = await session.scalar(select(User).where(User.user_id == student))
        assert row is not None and row.role == "student" and lti_identity(row) == (lms.issuer, "student-1")
        # ...which the learning records (xAPI) name the student by, as the LMS does.
        assert (await xapi_actor.actor_for(session, settings, student))["account"] == {
            "homePage": lms.issuer,
            "name": "student-1",
        }
    lms.fail_scores = 1
    for n, quiz_id in enumerate(course.quiz_ids):
        submitted = await client.post(
            f"/api/quizzes/{quiz_id}/responses",
            headers={"X-CSRF-Token": csrf.group(1)},
            json={"answers": course.answers[n] if n == 0 else {"1": course.answers[n]["1"]}, "attempt_key": f"a{n}"},
        )
        assert submitted.status_code == 201, submitted.text

    await deliver_until(settings, sessions, lambda: len(lms.scores) == 2)
    await outbox.deliver_due(sessions, settings)  # nothing is sent twice
    assert lms.fail_scores == 0  # the first post failed, and was retried
    by_item = dict(lms.scores)
    assert len(lms.scores) == 2 and by_item[lineitem]["scoreGiven"] == 100
    # Week 2's quiz had no column: the tool created one (resourceId = the quiz) and posted there.
    created = [i for i in lms.line_items if i.get("resourceId") == course.quiz_ids[1]]
    assert len(created) == 1 and by_item[created[0]["id"]]["scoreGiven"] == 25
    assert {s["userId"] for _, s in lms.scores} == {"student-1"}
    assert all(s["activityProgress"] == "Completed" and s["gradingProgress"] == "FullyGraded" for _, s in lms.scores)

    # The teacher opens the link, then syncs the roster: a student who never launched appears as not started.
    params = await login(client, lms, "teacher-1")
    token = lms.id_token(
        params["nonce"],
        sub="teacher-1",
        roles=INSTRUCTOR,
        message_type=c.RESOURCE_LINK_REQUEST,
        **resource_link(lms, item["custom"], lineitem),
    )
    assert (await launch(client, token, params["state"])).status_code == 303
    lms.members = [
        {"user_id": "teacher-1", "roles": INSTRUCTOR, "status": "Active", "name": "T"},
        {"user_id": "student-1", "roles": LEARNER, "status": "Active", "name": "Person student-1"},
        {"user_id": "student-2", "roles": LEARNER, "status": "Active", "name": "Ada <b>", "email": "ada@school.test"},
        {"user_id": "student-3", "roles": LEARNER, "status": "Inactive", "name": "Gone"},
    ]
    teacher = lti_user_id(lms.issuer, "teacher-1")
    outsider = await client.post(
        f"/api/lti/courses/{course.course_id}/roster-sync", headers=auth("teacher-x", "teacher")
    )
    assert outsider.status_code == 403
    synced = await client.post(
        f"/api/lti/courses/{course.course_id}/roster-sync",
        headers={"Authorization": f"Bearer {mint_token(settings, teacher, 'teacher')}"},
    )
    assert synced.status_code == 200, synced.text
    assert synced.json() == {"contexts": 1, "members": 4, "students": 2, "new_students": 1}
    students = await client.get(
        f"/api/analytics/courses/{course.course_id}/students", headers=auth("teacher-lti", "teacher")
    )
    by_user = {s["user_id"]: s for s in students.json()}
    assert by_user[lti_user_id(lms.issuer, "student-2")]["status"] == "not_started"
    assert by_user[student]["status"] != "not_started"

    # The course's owner has the same sync as a button on the console's analytics page.
    link = (await client.post("/api/sign-in-links", headers=auth("teacher-lti", "teacher"))).json()["url"]
    client.cookies.clear()
    assert (await client.get(link.replace("http://tutor.test", ""))).status_code == 303
    page = await client.get(f"/teach/courses/{course.course_id}/analytics")
    assert "Sync the roster from the LMS" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    lms.members.append({"user_id": "student-4", "roles": LEARNER, "status": "Active", "name": "Late Joiner"})
    synced_page = await client.post(f"/teach/courses/{course.course_id}/lms-roster", data={"csrf_token": csrf.group(1)})
    assert synced_page.status_code == 303
    page = await client.get(synced_page.headers["location"])
    assert lti_user_id(lms.issuer, "student-4") in page.text and lti_user_id(lms.issuer, "student-2") in page.text


BAD = {
    "wrong_signature": (401, "lti_signature"),
    "unknown_issuer": (403, "lti_unknown_platform"),
    "unknown_deployment": (403, "lti_unknown_deployment"),
    "expired": (401, "lti_expired"),
    "replayed_nonce": (403, "lti_replayed"),
    "missing_claims": (400, "lti_claims"),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_a_bad_launch_is_refused_with_a_page_and_creates_nothing(
    case: str,
    app_client: httpx.AsyncClient,
    registered: Platform,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    lms, client = registered, app_client
    course = await make_course(sessions, teacher="teacher-bad")
    params = await login(client, lms, "s-bad")
    extra = resource_link(lms, {"course_id": str(course.course_id)}, None)
    claims = jwt.decode(
        lms.id_token(params["nonce"], sub="s-bad", roles=LEARNER, message_type=c.RESOURCE_LINK_REQUEST, **extra),
        options={"verify_signature": False},
    )
    key = None
    if case == "wrong_signature":
        key = new_key()
    elif case == "unknown_issuer":
        claims["iss"] = "https://evil.example"
    elif case == "unknown_deployment":
        claims[c.DEPLOYMENT_ID] = "<script>alert(1)</script>"
    elif case == "expired":
        claims["iat"], claims["exp"] = int(time.time()) - 7200, int(time.time()) - 3600
    elif case == "missing_claims":
        del claims[c.VERSION]
    token = lms.sign(claims, key)
    if case == "replayed_nonce":
        assert (await launch(client, token, params["state"])).status_code == 303
    async with sessions() as session:
        users_before = await session.scalar(select(func.count()).select_from(User))
        launches_before = await session.scalar(text("SELECT count(*) FROM lti_launches"))
    with caplog.at_level(logging.WARNING, logger="api.routers.lti"):
        refused = await launch(client, token, params["state"])
    status, code = BAD[case]
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert code in refused.text and "set-cookie" not in refused.headers
    assert "<script>alert" not in refused.text
    if case == "unknown_deployment":
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text
    assert any(code in r.getMessage() for r in caplog.records)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == users_before
        assert await session.scalar(text("SELECT count(*) FROM lti_launches")) == launches_before
