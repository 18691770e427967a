"""Liveness, readiness and the one error shape, through the HTTP surface."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from api.app import create_app
from db import migrate
from db.embedded import EmbeddedPostgres
from db.engine import create_database, with_database
from tutor.settings import Settings


async def test_healthz_answers_while_the_process_lives(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_every_dependency_reachable(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "vector_store": "ok"}


async def test_readyz_names_the_database_when_it_is_stopped(settings: Settings, tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    await asyncio.to_thread(server.start)
    try:
        await create_database(server.url(), "tutor")
        url = with_database(server.url(), "tutor")
        await asyncio.to_thread(migrate.upgrade, url)
        app = create_app(settings.model_copy(update={"database_url": url}))
        async with app.router.lifespan_context(app):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
            assert (await client.get("/readyz")).status_code == 200
            await asyncio.to_thread(server.stop)
            response = await client.get("/readyz")
    finally:
        await asyncio.to_thread(server.stop)
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "not_ready"
    assert error["message"].startswith("database unreachable")
    assert error["checks"]["broker"] == "ok"
    assert error["checks"]["vector_store"] == "ok"


async def test_unknown_routes_answer_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


async def test_wrong_method_answers_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_openapi_documents_the_service(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert {"/healthz", "/readyz"} <= set(schema["paths"])
    assert (await client.get("/docs")).status_code == 200
