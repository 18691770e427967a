"""OIDC login initiation and the launch: the platform's id_token verified in full before anything is created.

A launch is checked in this order: the registered platform (issuer + audience), the RS256 signature against the
platform's JWKS (fetched off the event loop, cached: tutor.identity.JWKSKeys), expiry, the nonce (ours, used
once), the state this browser's login started with, then the LTI claims (version, message type, deployment).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import urlencode, urlsplit

import jwt
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LtiPlatform
from tutor.identity import AuthError, JWKSKeys
from tutor.lti import claims as c
from tutor.lti.errors import LtiError
from tutor.lti.platforms import find_platform, get_platform

log = logging.getLogger(__name__)

STATE_TTL_S = 600
MAX_TOKEN_LIFE_S = 24 * 3600
_STATE_KEY = "lti:state:"
_NONCE_KEY = "lti:nonce:"


@dataclass(frozen=True)
class LoginRequest:
    iss: str
    login_hint: str
    target_link_uri: str
    lti_message_hint: str | None = None
    client_id: str | None = None
    lti_deployment_id: str | None = None


@dataclass(frozen=True)
class Launch:
    """A verified launch."""

    platform: LtiPlatform
    claims: dict[str, Any]

    @property
    def message_type(self) -> str:
        return str(self.claims[c.MESSAGE_TYPE])

    @property
    def sub(self) -> str:
        return str(self.claims["sub"])

    @property
    def roles(self) -> list[str]:
        roles = self.claims.get(c.ROLES)
        return [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []

    @property
    def role(self) -> Literal["student", "teacher"]:
        return c.tutor_role(self.roles)

    @property
    def deployment_id(self) -> str:
        return str(self.claims[c.DEPLOYMENT_ID])

    def claim(self, name: str) -> dict[str, Any]:
        value = self.claims.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def context_id(self) -> str | None:
        value = self.claim(c.CONTEXT).get("id")
        return str(value)[:255] if value not in (None, "") else None

    @property
    def custom(self) -> dict[str, Any]:
        return self.claim(c.CUSTOM)


class PlatformKeys:
    """One JWKS cache per platform JWKS URL, for the life of the process."""

    def __init__(self) -> None:
        self._by_url: dict[str, JWKSKeys] = {}

    def of(self, url: str) -> JWKSKeys:
        if url not in self._by_url:
            self._by_url[url] = JWKSKeys(url, max_age_s=3600.0, min_refetch_s=30.0)
        return self._by_url[url]


async def start_login(session: AsyncSession, redis: Redis, login: LoginRequest, launch_url: str) -> str:
    """The platform's authorization URL to send the browser to, with a fresh state and nonce stored for it."""
    if not login.iss or not login.login_hint or not login.target_link_uri:
        raise LtiError("lti_login_incomplete", "the LMS's login request lacks iss, login_hint or target_link_uri")
    platform = await find_platform(session, login.iss, login.client_id)
    if platform is None:
        raise LtiError(
            "lti_unknown_platform", f"no LMS with issuer {login.iss!r} is registered with this tutor", status=403
        )
    if login.lti_deployment_id and login.lti_deployment_id not in platform.deployment_ids:
        raise LtiError(
            "lti_unknown_deployment", f"deployment {login.lti_deployment_id!r} is not registered", status=403
        )
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    record = {"platform_id": platform.id, "nonce": nonce, "target": login.target_link_uri}
    await redis.set(_STATE_KEY + state, json.dumps(record), ex=STATE_TTL_S)
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "login_hint": login.login_hint,
        "state": state,
        "nonce": nonce,
    }
    if login.lti_message_hint:
        params["lti_message_hint"] = login.lti_message_hint
    sep = "&" if "?" in platform.auth_login_url else "?"
    return f"{platform.auth_login_url}{sep}{urlencode(params)}"


async def _take_state(redis: Redis, state: str) -> dict[str, Any] | None:
    if not state or len(state) > 100:
        return None
    async with redis.pipeline(transaction=True) as pipe:  # a state works once
        pipe.get(_STATE_KEY + state)
        pipe.delete(_STATE_KEY + state)
        raw, _ = await pipe.execute()
    return None if raw is None else cast(dict[str, Any], json.loads(raw))


def _unverified(id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        return jwt.get_unverified_header(id_token), jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise LtiError("lti_malformed", "the LMS sent an id_token that is not a JWT") from None


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    return [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []


async def _platform_of(session: AsyncSession, claims: dict[str, Any]) -> LtiPlatform:
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise LtiError("lti_claims", "the id_token names no issuer (iss)")
    for aud in _audiences(claims)[:5]:
        platform = await find_platform(session, issuer, aud)
        if platform is not None:
            return platform
    raise LtiError(
        "lti_unknown_platform",
        f"no LMS with issuer {issuer!r} and this audience is registered with this tutor",
        status=403,
    )


async def verify_launch(
    session: AsyncSession, redis: Redis, keys: PlatformKeys, *, id_token: str, state: str, leeway_s: int
) -> Launch:
    if not id_token or len(id_token) > 64_000:
        raise LtiError("lti_launch_incomplete", "the launch carries no id_token")
    header, unverified = _unverified(id_token)
    platform = await _platform_of(session, unverified)
    if header.get("alg") != "RS256":
        raise LtiError("lti_signature", "LTI 1.3 id_tokens are signed with RS256", status=401)
    try:
        key = await keys.of(platform.jwks_url).key(header.get("kid"))
        verified: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=["RS256"],
            audience=platform.client_id,
            issuer=platform.issuer,
            leeway=leeway_s,
            options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
        )
    except AuthError as exc:  # the platform's keys: unknown key id, or the JWKS could not be read
        if exc.code == "unknown_signing_key":
            raise LtiError("lti_signature", "the id_token's signing key is not one of the LMS's", status=401) from None
        raise LtiError("lti_platform_unavailable", "the LMS's signing keys could not be read", status=502) from None
    except jwt.ExpiredSignatureError:
        raise LtiError("lti_expired", "the launch has expired; open the link in the LMS again", status=401) from None
    except jwt.InvalidSignatureError:
        raise LtiError("lti_signature", "the id_token's signature does not verify", status=401) from None
    except jwt.MissingRequiredClaimError as exc:
        raise LtiError("lti_claims", f"the id_token lacks the {exc.claim!r} claim") from None
    except jwt.PyJWTError as exc:
        raise LtiError("lti_invalid_token", f"the id_token is not valid: {exc}", status=401) from None
    if len(_audiences(verified)) > 1 and verified.get("azp") != platform.client_id:
        raise LtiError(
            "lti_invalid_token", "the id_token has several audiences and another authorized party", status=401
        )
    if float(verified["exp"]) > time.time() + MAX_TOKEN_LIFE_S:
        # Its nonce would have to be remembered that long; LMSs issue id_tokens for minutes.
        raise LtiError("lti_invalid_token", "the id_token is valid for too long (over a day)", status=401)
    await _use_nonce(redis, platform, verified)
    flow = await _take_state(redis, state)
    if flow is None:
        raise LtiError("lti_state", "this launch was not started here, or has expired; open the link again")
    if flow.get("platform_id") != platform.id or not secrets.compare_digest(
        str(flow.get("nonce", "")), str(verified["nonce"])
    ):
        raise LtiError("lti_nonce", "the id_token belongs to another launch", status=403)
    launch = Launch(platform, verified)
    _check_claims(launch)
    return launch


async def _use_nonce(redis: Redis, platform: LtiPlatform, claims: dict[str, Any]) -> None:
    nonce = str(claims["nonce"])
    digest = hashlib.sha256(f"{platform.id}\n{nonce}".encode()).hexdigest()
    ttl = max(60, int(float(claims["exp"]) - time.time()) + 600)  # past the token's expiry (and leeway)
    if not await redis.set(_NONCE_KEY + digest, "1", nx=True, ex=ttl):
        raise LtiError("lti_replayed", "this launch was already used; open the link in the LMS again", status=403)


def _check_claims(launch: Launch) -> None:
    claims = launch.claims
    if claims.get(c.VERSION) != c.LTI_VERSION:
        raise LtiError("lti_claims", f"the launch is not LTI {c.LTI_VERSION} (version claim missing or different)")
    if claims.get(c.MESSAGE_TYPE) not in (c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST):
        raise LtiError("lti_claims", "the launch's message type is missing or not one this tool accepts")
    deployment = claims.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment, str) or not deployment:
        raise LtiError("lti_claims", "the launch names no deployment")
    if deployment not in launch.platform.deployment_ids:
        raise LtiError("lti_unknown_deployment", f"deployment {deployment!r} is not registered", status=403)
    if not isinstance(claims.get(c.ROLES), list):
        raise LtiError("lti_claims", "the launch carries no roles claim")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise LtiError("lti_claims", "the launch's user id (sub) is missing or too long")
    if launch.message_type == c.RESOURCE_LINK_REQUEST and not launch.claim(c.RESOURCE_LINK).get("id"):
        raise LtiError("lti_claims", "the launch names no resource link")
    if launch.message_type == c.DEEP_LINKING_REQUEST and not launch.claim(c.DEEP_LINKING_SETTINGS).get(
        "deep_link_return_url"
    ):
        raise LtiError("lti_claims", "the deep linking request names no return URL")


def origin_of(url: str) -> str:
    """`https://lms.example/mod/lti/x.php` -> `https://lms.example` (for CSP sources; quotes and spaces cannot
    get in: the URL was checked when the platform was registered or comes from a verified token)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ch in parts.netloc for ch in " ;'\"\n,"):
        raise LtiError("lti_claims", "the LMS named a URL that is not http(s)")
    return f"{parts.scheme}://{parts.netloc}"


async def platform_by_id(session: AsyncSession, platform_id: int) -> LtiPlatform:
    platform = await get_platform(session, platform_id)
    if platform is None:
        raise LtiError("lti_unknown_platform", "this LMS is no longer registered", status=403)
    return platform
