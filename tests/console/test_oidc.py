"""Signing in with the school's OpenID Connect provider (a real one, oidc-provider-mock, started by the test):
authorization code + PKCE, the ID token verified, the role from its claim, a console session at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from api.web_session import SESSION_COOKIE
from tutor.settings import Settings


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    oidc_provider_mock = pytest.importorskip("oidc_provider_mock")
    with oidc_provider_mock.run_server_in_thread(port=0) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
async def console(provider: str, settings: Settings, db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    from api.app import create_app

    configured = settings.model_copy(
        update={"oidc_issuer": provider, "oidc_client_id": "tutor-console", "oidc_client_secret": "s3cret"}
    )
    app = create_app(configured)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def _sign_in_at_provider(console: httpx.AsyncClient, provider: str, sub: str, claims: dict[str, str]) -> str:
    """The person's claims at the provider, the trip there and back; returns our callback URL (code and state)."""
    async with httpx.AsyncClient() as idp:
        assert (await idp.put(f"{provider}/users/{sub}", json=claims)).status_code < 300
        start = await console.get("/signin/oidc", params={"next": "/teach/upload"})
        assert start.status_code == 303
        authorize = start.headers["location"]
        query = parse_qs(urlparse(authorize).query)
        assert authorize.startswith(provider) and query["code_challenge_method"] == ["S256"] and query["nonce"]
        answer = await idp.post(authorize, data={"sub": sub})
        assert answer.status_code in (302, 303), answer.text
        return answer.headers["location"]


async def test_a_teacher_signs_in_with_the_school_provider_and_lands_on_the_console(
    console: httpx.AsyncClient, provider: str
) -> None:
    page = await console.get("/signin")
    assert "Sign in with your school account" in page.text
    back = await _sign_in_at_provider(console, provider, "ada", {"role": "teacher", "name": "Ada L"})
    assert back.startswith("http://t/signin/oidc/callback?")
    done = await console.get(back)
    assert done.status_code == 303 and done.headers["location"] == "/teach/upload", done.text[-600:]
    assert SESSION_COOKIE in done.cookies
    assert "Signed in as <strong>ada</strong> (teacher)" in (await console.get("/teach")).text
    replay = await console.get(back)  # the state works once
    assert replay.status_code == 400


async def test_a_student_from_the_provider_gets_no_console_and_a_forged_state_is_refused(
    console: httpx.AsyncClient, provider: str
) -> None:
    back = await _sign_in_at_provider(console, provider, "pupil", {"role": "student"})
    assert (await console.get(back)).headers["location"] == "/signin"
    assert (await console.get("/teach")).status_code == 403
    code = parse_qs(urlparse(back).query)["code"][0]
    forged = await console.get("/signin/oidc/callback", params={"code": code, "state": "made-up"})
    assert forged.status_code == 400 and "expired or was already used" in forged.text
