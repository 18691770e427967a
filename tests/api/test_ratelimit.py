"""Per-user rate limits on chat and uploads, kept in Redis so they hold across API workers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from tutor.settings import Settings


async def test_too_many_requests_get_429_with_retry_after_across_app_instances(
    settings: Settings, auth: Callable[..., dict[str, str]], db: AsyncEngine
) -> None:
    limited = settings.model_copy(update={"rate_limit_chat_per_minute": 2, "rate_limit_uploads_per_hour": 1})
    one, two = create_app(limited), create_app(limited)  # two API workers sharing one Redis
    async with one.router.lifespan_context(one), two.router.lifespan_context(two):
        clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://t") for a in (one, two)]
        student = auth("student-rl-" + settings.celery_queue)
        body = {"course_id": 1, "message": "hi"}
        statuses = [
            (await clients[i % 2].post("/api/chat/stream", headers=student, json=body)).status_code for i in range(3)
        ]
        assert statuses[:2] == [404, 404]  # counted (no such course), not limited yet
        limited_response = await clients[0].post("/api/chat/stream", headers=student, json=body)
        assert limited_response.status_code == 429
        assert limited_response.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited_response.headers["Retry-After"]) <= 60
        other = auth("student-rl-other-" + settings.celery_queue)
        assert (await clients[1].post("/api/chat/stream", headers=other, json=body)).status_code == 404  # per user

        teacher = auth("teacher-rl-" + settings.celery_queue, "teacher")
        files = [("files", ("a.pdf", b"not a pdf", "application/pdf"))]
        assert (
            await clients[0].post("/api/upload-pdfs", headers=teacher, files=files, data={"title": "x"})
        ).status_code == 415
        again = await clients[1].post("/api/upload-pdfs", headers=teacher, files=files, data={"title": "x"})
        # The hourly window (not the chat's minute): its end is up to an hour away, whatever the clock says.
        assert again.status_code == 429 and 1 <= int(again.headers["Retry-After"]) <= 3600
        assert "upload" in again.json()["error"]["message"]
        for c in clients:
            await c.aclose()


async def test_with_redis_unreachable_the_limits_are_counted_in_the_process_and_still_hold(
    settings: Settings, auth: Callable[..., dict[str, str]], db: AsyncEngine
) -> None:
    """Redis gone (a port where nothing listens): chat turns are still admitted, and still limited, per process."""
    from tutor.ports import free_port

    gone = settings.model_copy(
        update={"rate_limit_chat_per_minute": 2, "redis_url": f"redis://127.0.0.1:{free_port()}/0"}
    )
    app = create_app(gone)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        student = auth("student-rl-local-" + settings.celery_queue)
        body = {"course_id": 1, "message": "hi"}
        statuses = [(await client.post("/api/chat/stream", headers=student, json=body)).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]  # admitted (no such course: not a 503), then limited
