"""Bearer JWTs: who may in, with which role; users appear on first sight; deactivated users are refused."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from tutor.identity import mint_token
from tutor.settings import Settings

Auth = Callable[..., dict[str, str]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_first_sight_creates_the_user_and_records_the_login(
    client: httpx.AsyncClient, settings: Settings, db: AsyncEngine
) -> None:
    token = mint_token(settings, "alice", "teacher", email="alice@school.test", name="Alice A.")
    me = await client.get("/api/users/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["user_id"] == "alice" and me.json()["role"] == "teacher"
    assert me.json()["email"] == "alice@school.test" and me.json()["last_login"]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda s: "not-a-jwt", "invalid_token"),
        (lambda s: mint_token(s, "bob", ttl_s=-120), "token_expired"),
        (
            lambda s: jwt.encode(
                {"sub": "bob", "exp": time.time() + 60},
                "a-wrong-secret-that-is-long-enough-for-hs256",
                algorithm="HS256",
            ),
            "invalid_signature",
        ),
        (lambda s: mint_token(s, "bob", "superuser"), "invalid_role"),  # type: ignore[arg-type]
        (lambda s: jwt.encode({"sub": "bob"}, s.jwt_secret, algorithm="HS256"), "invalid_token"),
    ],
)
async def test_bad_tokens_get_401_with_a_clear_code(
    client: httpx.AsyncClient, settings: Settings, make: Callable[[Settings], str], code: str
) -> None:
    response = await client.get("/api/users/me", headers=bearer(make(settings)))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


async def test_no_token_gets_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/courses")
    assert response.status_code == 401 and response.json()["error"]["code"] == "missing_token"


async def test_clock_skew_within_the_leeway_is_accepted(client: httpx.AsyncClient, settings: Settings) -> None:
    assert (
        await client.get("/api/users/me", headers=bearer(mint_token(settings, "carol", ttl_s=-5)))
    ).status_code == 200


async def test_issuer_and_audience_are_checked_when_configured(settings: Settings, db: AsyncEngine) -> None:
    strict = settings.model_copy(update={"jwt_issuer": "https://idp.school", "jwt_audience": "tutor"})
    app = create_app(strict)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        ok = await client.get("/api/users/me", headers=bearer(mint_token(strict, "dan")))
        assert ok.status_code == 200
        other_aud = mint_token(settings, "dan", aud="another-app", iss="https://idp.school")
        response = await client.get("/api/users/me", headers=bearer(other_aud))
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_audience"
        other_iss = mint_token(settings, "dan", aud="tutor", iss="https://evil.example")
        response = await client.get("/api/users/me", headers=bearer(other_iss))
        assert response.json()["error"]["code"] == "invalid_issuer"


async def test_a_token_cannot_raise_the_role_an_admin_set(
    client: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    assert (await client.get("/api/users/me", headers=auth("erin", "student"))).status_code == 200
    response = await client.get("/api/users/me", headers=auth("erin", "admin"))
    assert response.status_code == 401 and response.json()["error"]["code"] == "role_not_allowed"


async def test_admins_manage_roles_and_deactivated_users_are_refused(
    client: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    async with db.begin() as conn:
        await conn.execute(text("INSERT INTO users (user_id, role) VALUES ('root', 'admin')"))
    await client.get("/api/users/me", headers=auth("frank"))
    promoted = await client.patch("/api/users/frank", headers=auth("root", "admin"), json={"role": "teacher"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "teacher"
    assert (await client.get("/api/users/me", headers=auth("frank", "teacher"))).status_code == 200
    assert (
        await client.patch("/api/users/frank", headers=auth("frank", "teacher"), json={"is_active": False})
    ).status_code == 403
    await client.patch("/api/users/frank", headers=auth("root", "admin"), json={"is_active": False})
    refused = await client.get("/api/users/me", headers=auth("frank", "teacher"))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "user_inactive"
    assert (
        await client.patch("/api/users/nobody", headers=auth("root", "admin"), json={"role": "teacher"})
    ).status_code == 404


async def test_rs256_tokens_are_verified_against_the_identity_providers_jwks(
    settings: Settings, db: AsyncEngine
) -> None:
    import functools
    import http.server
    import json
    import threading

    from cryptography.hazmat.primitives.asymmetric import rsa

    from tutor.ports import free_port

    key, stranger = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "school-1", "alg": "RS256", "use": "sig"}]}).encode()

    class JWKS(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), functools.partial(JWKS))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    idp = settings.model_copy(
        update={
            "jwt_jwks_url": f"http://127.0.0.1:{server.server_port}/jwks.json",
            "jwt_issuer": "https://idp.school",
            "jwt_audience": "tutor",
        }
    )
    claims = {"sub": "grace", "role": "teacher", "iss": "https://idp.school", "aud": "tutor", "exp": time.time() + 300}
    app = create_app(idp)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        ):
            good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "school-1"})
            me = await client.get("/api/users/me", headers=bearer(good))
            assert me.status_code == 200 and me.json()["role"] == "teacher"
            forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "school-1"})
            response = await client.get("/api/users/me", headers=bearer(forged))
            assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_signature"
            hs256 = jwt.encode(claims, "x" * 40, algorithm="HS256", headers={"kid": "school-1"})
            assert (await client.get("/api/users/me", headers=bearer(hs256))).status_code == 401
    finally:
        server.shutdown()
