"""Tokens of a school's identity provider (RS256 against its JWKS): keys fetched sparingly and off the event
loop, audiences required, and widget tokens still working in that mode."""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from tests.api.test_widget_tokens import EMBED_KEY, PAGE, _embeddable
from tests.quiz.rows import make_course
from tutor.identity import mint_token
from tutor.ports import free_port
from tutor.settings import Settings

ISSUER, AUDIENCE = "https://idp.school", "tutor"


@dataclass
class Provider:
    url: str
    key: Any
    fetches: list[float] = field(default_factory=list)
    delay_s: float = 0.0

    def token(self, sub: str, *, kid: str = "school-1", role: str = "student") -> str:
        claims = {"sub": sub, "role": role, "iss": ISSUER, "aud": AUDIENCE, "exp": time.time() + 300}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": kid})


@contextmanager
def serve_jwks() -> Iterator[Provider]:
    """A school's identity provider on the loopback: its JWKS at `.url`, tokens signed by `.token(...)`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "school-1", "alg": "RS256", "use": "sig"}]}).encode()
    state = Provider("", key)

    class JWKS(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.fetches.append(time.monotonic())
            if state.delay_s:
                threading.Event().wait(state.delay_s)  # a slow provider (this is the provider's thread, not ours)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), functools.partial(JWKS))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_port}/jwks.json"
    try:
        yield state
    finally:
        server.shutdown()


def idp_settings(settings: Settings, provider: Provider) -> Settings:
    """`settings` in JWKS mode: people's tokens are the provider's (RS256), widget tokens stay ours."""
    return settings.model_copy(update={"jwt_jwks_url": provider.url, "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE})


@pytest.fixture
def provider() -> Iterator[Provider]:
    with serve_jwks() as state:
        yield state


@pytest.fixture
async def idp_client(settings: Settings, provider: Provider, db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(idp_settings(settings, provider))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_random_key_ids_do_not_make_the_tutor_refetch_the_providers_keys(
    idp_client: httpx.AsyncClient, provider: Provider
) -> None:
    assert (await idp_client.get("/api/users/me", headers=bearer(provider.token("grace")))).status_code == 200
    codes = await asyncio.gather(
        *(
            idp_client.get("/api/users/me", headers=bearer(provider.token("mallory", kid=uuid.uuid4().hex)))
            for _ in range(30)
        )
    )
    assert {r.status_code for r in codes} == {401}
    assert {r.json()["error"]["code"] for r in codes} == {"unknown_signing_key"}
    assert len(provider.fetches) <= 2, provider.fetches  # the first sight, and at most one refetch
    assert (await idp_client.get("/api/users/me", headers=bearer(provider.token("grace")))).status_code == 200


async def test_a_slow_provider_does_not_stall_other_requests(idp_client: httpx.AsyncClient, provider: Provider) -> None:
    provider.delay_s = 1.5
    finished: list[str] = []

    async def signed_in() -> None:
        response = await idp_client.get("/api/users/me", headers=bearer(provider.token("heidi")))
        assert response.status_code == 200
        finished.append("sign-in")

    async def health() -> None:
        deadline = time.monotonic() + 10
        while not provider.fetches:  # the key fetch has started
            assert time.monotonic() < deadline, "the sign-in never asked the provider"
            await asyncio.sleep(0.01)
        assert (await idp_client.get("/healthz")).status_code == 200
        finished.append("healthz")

    await asyncio.gather(signed_in(), health())
    assert finished == ["healthz", "sign-in"]


async def test_widget_tokens_work_when_people_sign_in_with_the_identity_provider(
    idp_client: httpx.AsyncClient,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> None:
    rows = await make_course(sessions, teacher="teacher-jwks")
    await _embeddable(engine, rows.course_id)
    minted = await idp_client.post(
        "/api/widget/session",
        headers={"Origin": PAGE},
        json={"course_id": rows.course_id, "embed_key": EMBED_KEY, "visitor_id": uuid.uuid4().hex},
    )
    assert minted.status_code == 200, minted.text
    sessions_list = await idp_client.get(
        "/api/chat/sessions", headers={**bearer(minted.json()["token"]), "Origin": PAGE}
    )
    assert sessions_list.status_code == 200
    # ...and a token signed with the tutor's own secret is not a person's token in this mode.
    forged = mint_token(settings, "mallory", "admin", aud=AUDIENCE, iss=ISSUER)
    refused = await idp_client.get("/api/users/me", headers=bearer(forged))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_algorithm"


async def test_identity_provider_mode_needs_an_audience(settings: Settings, provider: Provider) -> None:
    app = create_app(settings.model_copy(update={"jwt_jwks_url": provider.url, "jwt_audience": None}))
    with pytest.raises(RuntimeError, match="TUTOR_JWT_AUDIENCE"):
        async with app.router.lifespan_context(app):
            pass
