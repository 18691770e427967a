"""Widget identities and scope: what a script with the public embed key can and cannot do."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from tests.quiz.rows import make_course
from tutor.identity import mint_token
from tutor.settings import Settings

EMBED_KEY = "ek_public_key_of_the_course"
PAGE = "https://school.example"


async def _embeddable(engine: AsyncEngine, course_id: int, **extra: object) -> None:
    import json

    meta = {"embed_key": EMBED_KEY, "allowed_origins": [PAGE], **extra}
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE courses SET metadata = CAST(:m AS JSONB) WHERE course_id = :c"),
            {"m": json.dumps(meta), "c": course_id},
        )


def within_budget(calls: list[tuple[int, int]], budget: int) -> None:
    """(window, status) per call: at most `budget` successes per fixed window, refusals only once it is spent.

    Judged per window, so a test that runs across a window's end still holds (a call whose window changed while
    it ran is recorded with window -1 and judged with neither)."""
    windows = {w for w, _ in calls} - {-1}
    for window in windows:
        codes = [code for w, code in calls if w == window]
        allowed = min(budget, len(codes))
        assert codes == [200] * allowed + [429] * (len(codes) - allowed), codes
    assert any(code == 429 for _, code in calls)


async def timed(window_s: int, call: Awaitable[httpx.Response]) -> tuple[int, int]:
    before = int(time.time()) // window_s
    status = (await call).status_code
    return (before if int(time.time()) // window_s == before else -1), status


def _visitor() -> str:
    return uuid.uuid4().hex


async def _mint(
    client: httpx.AsyncClient, course_id: int, visitor: str | None = None, **body: object
) -> httpx.Response:
    return await client.post(
        "/api/widget/session",
        headers={"Origin": PAGE},
        json={"course_id": course_id, "embed_key": EMBED_KEY, "visitor_id": visitor or _visitor(), **body},
    )


@pytest.fixture
async def strict_client(settings: Settings, db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the widget's default budgets, reached from an address of its own (each test's budget)."""
    tight = settings.model_copy(
        update={
            "rate_limit_widget_sessions_per_address_hour": 30,
            "rate_limit_widget_chat_per_address_minute": 3,
            "max_widget_visitors_per_course": 40,
        }
    )
    app = create_app(tight)
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://tutor.test") as client:
            yield client


async def test_a_script_cannot_mint_unlimited_visitor_identities_from_one_address(
    strict_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    rows = await make_course(sessions, teacher=f"teacher-{_visitor()[:8]}")
    await _embeddable(engine, rows.course_id)
    calls = [await timed(3600, _mint(strict_client, rows.course_id)) for _ in range(40)]
    within_budget(calls, 30)
    refused = await _mint(strict_client, rows.course_id)
    assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0


async def test_visitor_accounts_per_course_are_capped_but_returning_visitors_get_in(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, db: AsyncEngine
) -> None:
    rows = await make_course(sessions, teacher=f"teacher-{_visitor()[:8]}")
    await _embeddable(engine, rows.course_id)
    app = create_app(settings.model_copy(update={"max_widget_visitors_per_course": 3}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        first = _visitor()
        assert (await _mint(client, rows.course_id, first)).status_code == 200
        assert (await _mint(client, rows.course_id)).status_code == 200
        assert (await _mint(client, rows.course_id)).status_code == 200
        full = await _mint(client, rows.course_id)
        assert full.status_code == 403 and full.json()["error"]["code"] == "visitor_limit_reached"
        assert (await _mint(client, rows.course_id, first)).status_code == 200
    async with engine.connect() as conn:
        visitors = await conn.scalar(
            text("SELECT count(*) FROM users WHERE user_id LIKE :p"), {"p": f"visitor:{rows.course_id}:%"}
        )
    assert visitors == 3


async def test_widget_chat_is_limited_per_address_whatever_visitor_id_is_used(
    strict_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, auth
) -> None:  # type: ignore[no-untyped-def]
    rows = await make_course(sessions, teacher=f"teacher-{_visitor()[:8]}")
    await _embeddable(engine, rows.course_id)
    warm = await strict_client.post(  # loads the chat engine; a person's chat is not the widget's budget
        "/api/chat/stream", headers=auth("student-warm"), json={"course_id": rows.course_id, "message": "quiz me"}
    )
    assert warm.status_code == 200
    calls = []
    for _ in range(5):
        token = (await _mint(strict_client, rows.course_id)).json()["token"]
        chat = strict_client.post(
            "/api/chat/stream",
            headers={"Authorization": f"Bearer {token}", "Origin": PAGE},
            json={"course_id": rows.course_id, "message": "quiz me on week 1"},
        )
        calls.append(await timed(60, chat))
    within_budget(calls, 3)


async def test_a_teacher_can_require_host_signed_identities(
    client: httpx.AsyncClient, settings: Settings, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, auth
) -> None:  # type: ignore[no-untyped-def]
    teacher = f"teacher-{_visitor()[:8]}"
    rows = await make_course(sessions, teacher=teacher)
    await _embeddable(engine, rows.course_id)
    setting = await client.put(
        f"/api/courses/{rows.course_id}/embed",
        headers=auth(teacher, "teacher"),
        json={"allowed_origins": [PAGE], "require_signed_identity": True},
    )
    assert setting.status_code == 200 and setting.json()["require_signed_identity"] is True
    anonymous = await _mint(client, rows.course_id)
    assert anonymous.status_code == 403 and anonymous.json()["error"]["code"] == "signed_identity_required"
    signed = await _mint(client, rows.course_id, token=mint_token(settings, "host-student-7"))
    assert signed.status_code == 200 and signed.json()["user_id"] == "host-student-7"


async def test_a_widget_token_is_not_exchanged_for_a_fresh_one(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    rows = await make_course(sessions, teacher=f"teacher-{_visitor()[:8]}")
    await _embeddable(engine, rows.course_id)
    token = (await _mint(client, rows.course_id)).json()["token"]
    renewed = await _mint(client, rows.course_id, token=token)
    assert renewed.status_code == 401 and renewed.json()["error"]["code"] == "widget_token_not_exchangeable"


async def test_a_widget_token_opens_its_own_courses_chat_and_nothing_else(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    mine = await make_course(sessions, teacher=f"teacher-{_visitor()[:8]}")
    other = await make_course(sessions, teacher=f"teacher-{_visitor()[:8]}")
    await _embeddable(engine, mine.course_id)
    token = (await _mint(client, mine.course_id)).json()["token"]
    widget = {"Authorization": f"Bearer {token}", "Origin": PAGE}

    for method, path, body in (
        (
            "POST",
            "/v1/chat/completions",
            {"model": f"course-{other.course_id}", "messages": [{"role": "user", "content": "hi"}]},
        ),
        (
            "POST",
            "/v1/chat/completions",
            {"model": f"course-{mine.course_id}", "messages": [{"role": "user", "content": "hi"}]},
        ),
        ("GET", f"/api/courses/{other.course_id}", None),
        ("GET", f"/api/courses/{mine.course_id}", None),
        ("GET", "/api/courses", None),
        ("GET", f"/api/quizzes/{other.quiz_ids[0]}", None),
        ("GET", "/api/users/me", None),
    ):
        response = await client.request(method, path, headers=widget, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "widget_token_not_allowed"

    elsewhere = await client.post(
        "/api/chat/stream", headers=widget, json={"course_id": other.course_id, "message": "quiz me on week 1"}
    )
    assert elsewhere.status_code == 404 and elsewhere.json()["error"]["code"] == "course_not_found"
    here = await client.post(
        "/api/chat/stream", headers=widget, json={"course_id": mine.course_id, "message": "quiz me on week 1"}
    )
    assert here.status_code == 200
    other_page = await client.post(
        "/api/chat/stream",
        headers={**widget, "Origin": "https://evil.example"},
        json={"course_id": mine.course_id, "message": "quiz me on week 1"},
    )
    assert other_page.status_code == 403 and other_page.json()["error"]["code"] == "origin_not_allowed"
    assert [s["course_id"] for s in (await client.get("/api/chat/sessions", headers=widget)).json()] == [mine.course_id]
    assert (await client.get(f"/api/chat/sessions?course_id={other.course_id}", headers=widget)).json() == []


@pytest.mark.parametrize("bad", [None, "https://school.example", ["javascript:alert(1)"], [1]])
async def test_course_metadata_edits_keep_the_widget_settings_valid(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, auth, bad: object
) -> None:  # type: ignore[no-untyped-def]
    teacher = f"teacher-{_visitor()[:8]}"
    rows = await make_course(sessions, teacher=teacher)
    await _embeddable(engine, rows.course_id)
    response = await client.patch(
        f"/api/courses/{rows.course_id}", headers=auth(teacher, "teacher"), json={"metadata": {"allowed_origins": bad}}
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    kept = await client.get(f"/api/courses/{rows.course_id}/embed", headers=auth(teacher, "teacher"))
    assert kept.json()["allowed_origins"] == [PAGE]
    other_keys = await client.patch(
        f"/api/courses/{rows.course_id}", headers=auth(teacher, "teacher"), json={"metadata": {"theme": "dark"}}
    )
    assert other_keys.status_code == 200


async def test_a_stored_origin_string_never_matches_a_substring(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    """A row written before validation existed (or by hand) with a string where the list belongs."""
    rows = await make_course(sessions, teacher=f"teacher-{_visitor()[:8]}")
    await _embeddable(engine, rows.course_id, allowed_origins="https://school.example.evil.test")
    response = await client.post(
        "/api/widget/session",
        headers={"Origin": "https://school.example"},
        json={"course_id": rows.course_id, "embed_key": EMBED_KEY, "visitor_id": _visitor()},
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "origin_not_allowed"
