"""Sign-in with the school's OpenID Connect provider: authorization code + PKCE (authlib), the ID token verified
against the provider's keys, the role from a configurable claim, then the same server-side session as a link."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

import httpx
import jwt
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session, state_of
from api.pages.render import redirect
from api.web_session import WebSession, end_session, optional_web_session, set_session_cookie, start_session
from tutor.errors import NotFoundError, TutorError
from tutor.identity import ROLES, AuthError, Principal, Role, sign_in
from tutor.settings import Settings

router = APIRouter(include_in_schema=False)
FLOW_TTL_S = 600
_FLOW_KEY = "web:oidc:"


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


async def _provider(settings: Settings) -> Provider:
    issuer = (settings.oidc_issuer or "").rstrip("/")
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{issuer}/.well-known/openid-configuration")
            response.raise_for_status()
            meta = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise TutorError("oidc_unavailable", f"the sign-in provider did not answer: {exc}", status=502) from None
    return Provider(meta["issuer"], meta["authorization_endpoint"], meta["token_endpoint"], meta["jwks_uri"])


def _configured(settings: Settings) -> None:
    if not (settings.oidc_issuer and settings.oidc_client_id):
        raise NotFoundError("oidc_not_configured", "sign-in with a school account is not set up here")


def _client(settings: Settings, redirect_uri: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        scope=settings.oidc_scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10,
    )


def _callback_url(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


@router.get("/signin/oidc")
async def start(request: Request, next: str = Query("/teach", max_length=500)) -> Response:
    settings = state_of(request).settings
    _configured(settings)
    provider = await _provider(settings)
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    flow = {"verifier": verifier, "nonce": nonce, "next": next}
    await state_of(request).redis.set(_FLOW_KEY + state, json.dumps(flow), ex=FLOW_TTL_S)
    params = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": _callback_url(request),
        "scope": settings.oidc_scopes,
        "state": state,
        "nonce": nonce,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    return redirect(f"{provider.authorization_endpoint}?{urlencode(params)}")


async def _take_flow(redis: Redis, state: str) -> dict[str, Any] | None:
    key = _FLOW_KEY + state
    async with redis.pipeline(transaction=True) as pipe:  # a state works once
        pipe.get(key)
        pipe.delete(key)
        raw, _ = await pipe.execute()
    return None if raw is None else cast(dict[str, Any], json.loads(raw))


def _principal(settings: Settings, claims: dict[str, Any]) -> Principal:
    role = claims.get(settings.oidc_role_claim) or "student"
    if isinstance(role, list):  # some providers send roles as a list: the highest one counts
        role = max((r for r in role if r in ROLES), key=ROLES.index, default="student")
    if role not in ROLES:
        raise AuthError("invalid_role", f"unknown role {role!r} from the sign-in provider", status=403)
    sub = str(claims["sub"])
    if not sub or len(sub) > 100:
        raise AuthError("invalid_token", "the provider's user id must be 1-100 characters")
    return Principal(sub, cast(Role, role), email=claims.get("email"), full_name=claims.get("name"))


def _signing_key(keys: jwt.PyJWKClient, id_token: str) -> Any:
    """The key the token names (`kid`), or the provider's only signing key when it names none."""
    kid = jwt.get_unverified_header(id_token).get("kid")
    if kid:
        return keys.get_signing_key(kid).key
    signing = keys.get_signing_keys()
    if len(signing) != 1:
        raise jwt.PyJWTError("the ID token names no key and the provider has several")
    return signing[0].key


@router.get("/signin/oidc/callback", name="oidc_callback")
async def callback(
    request: Request,
    code: str = Query("", max_length=2000),
    state: str = Query("", max_length=100),
    error: str | None = Query(None, max_length=200),
    web: WebSession | None = Depends(optional_web_session),
    session: AsyncSession = Depends(get_session),
) -> Response:
    app = state_of(request)
    settings = app.settings
    _configured(settings)
    if error:
        raise AuthError("oidc_refused", f"the sign-in provider refused: {error}", status=403)
    flow = await _take_flow(app.redis, state)
    if flow is None or not code:
        raise AuthError("oidc_state", "this sign-in has expired or was already used; start again", status=400)
    provider = await _provider(settings)
    async with _client(settings, _callback_url(request)) as client:
        try:
            token = await client.fetch_token(provider.token_endpoint, code=code, code_verifier=flow["verifier"])
        except Exception as exc:  # authlib raises its OAuthError or httpx errors; the user needs words either way
            raise AuthError("oidc_token", f"the sign-in provider did not accept the code: {exc}", status=403) from None
    try:
        # PyJWKClient fetches the keys with blocking I/O: off the event loop.
        key = await asyncio.to_thread(_signing_key, jwt.PyJWKClient(provider.jwks_uri), token["id_token"])
        claims = jwt.decode(
            token["id_token"],
            key,
            algorithms=["RS256", "ES256"],
            audience=settings.oidc_client_id,
            issuer=provider.issuer,
            leeway=settings.jwt_leeway_s,
        )
    except (jwt.PyJWTError, KeyError) as exc:
        raise AuthError("oidc_id_token", f"the provider's ID token does not verify: {exc}", status=403) from None
    if not secrets.compare_digest(str(claims.get("nonce", "")), flow["nonce"]):
        raise AuthError("oidc_nonce", "the provider's ID token is for another sign-in", status=403)
    principal = await sign_in(session, _principal(settings, claims))
    if web is not None:
        await end_session(app.redis, web)
    secret, _ = await start_session(app.redis, principal)
    target = str(flow["next"])
    safe = target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/teach"
    response = redirect(safe if principal.is_teacher else "/signin")
    set_session_cookie(request, response, secret)
    return response
