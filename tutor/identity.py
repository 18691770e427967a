"""Who is asking: bearer JWTs from the school's identity provider, verified and mapped to a users row."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import jwt
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from tutor.errors import TutorError
from tutor.settings import Settings, local_jwt_secret

Role = Literal["student", "teacher", "admin"]
ROLES: tuple[Role, ...] = ("student", "teacher", "admin")


class AuthError(TutorError):
    status = 401


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    email: str | None = None
    full_name: str | None = None
    # Widget tokens are limited to one course and the page origin they were issued to (api/auth.py: they reach
    # only the routes a widget needs, and tutor.courses.visible_course only their course).
    course_scope: int | None = None
    origin_scope: str | None = None

    @property
    def is_widget(self) -> bool:
        return self.course_scope is not None

    @property
    def is_teacher(self) -> bool:
        return self.role in ("teacher", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def utcnow() -> datetime:
    """Naive UTC, as the seed's TIMESTAMP columns store it."""
    return datetime.now(UTC).replace(tzinfo=None)


VERIFIED_TOKENS = 10_000
VERIFIED_FOR_S = 60  # a signing key withdrawn from the JWKS stops working within this long
# Widget tokens are always ours (HS256, the local secret), whatever verifies people's tokens: this audience marks
# them, so they are never taken for a person's full token, nor a person's token for a widget's.
WIDGET_AUDIENCE = "tutor-widget"


class JWKSKeys:
    """The identity provider's signing keys, fetched off the event loop and refetched sparingly.

    A token with an unknown `kid` triggers at most one refetch per `min_refetch_s` for the whole process (one
    fetch at a time, the others wait for it): random `kid`s sent by anyone cannot make us hammer the provider
    or stall requests behind fetches.
    """

    def __init__(self, url: str, *, max_age_s: float = 3600.0, min_refetch_s: float = 30.0) -> None:
        self.url, self.max_age_s, self.min_refetch_s = url, max_age_s, min_refetch_s
        self._keys: dict[str, Any] = {}
        self._fetched_at = -1e9
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str | None) -> Any:
        found = self._pick(kid)
        if found is not None and self._age() < self.max_age_s:
            return found
        async with self._lock:  # one fetch at a time; whoever waited finds its result
            found = self._pick(kid)
            if self._age() >= (self.max_age_s if found is not None else self.min_refetch_s):
                await self._fetch()
                found = self._pick(kid)
        if found is None:
            raise AuthError(
                "unknown_signing_key", "the bearer token's signing key is not one of the identity provider's"
            )
        return found

    def _age(self) -> float:
        return time.monotonic() - self._fetched_at

    def _pick(self, kid: str | None) -> Any:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()  # also on failure: a provider that is down is not asked per request
        self.fetches += 1
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            if self._keys:  # keep the keys we had: a provider hiccup must not sign everybody out
                return
            raise AuthError(
                "identity_provider_unavailable", f"the identity provider's keys could not be read: {exc}", status=503
            ) from None
        self._keys = {k.key_id or f"key-{i}": k.key for i, k in enumerate(keys) if k.public_key_use in (None, "sig")}


class TokenVerifier:
    """Verifies HS256 tokens with the shared secret, or RS256 tokens against the provider's JWKS.

    Widget tokens (minted by `POST /api/widget/session`) are HS256 with the local secret in both modes.
    """

    def __init__(self, settings: Settings) -> None:
        if settings.jwt_jwks_url and not settings.jwt_audience:
            # Without an audience check, a token the school's provider issued to any other application would open
            # this one.
            raise RuntimeError("TUTOR_JWT_JWKS_URL needs TUTOR_JWT_AUDIENCE: the audience this tutor's tokens carry")
        self.settings = settings
        self._secret = local_jwt_secret(settings)
        self.jwks = JWKSKeys(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
        self._verified: dict[str, tuple[float, Principal]] = {}  # token -> (valid until, principal)

    async def verify(self, token: str) -> Principal:
        """The token's principal; a token verified in the last minute is not verified again (it is checked per
        request, and the signature check is a measurable share of a busy API's time). Expiry is still checked."""
        now = time.time()
        known = self._verified.get(token)
        if known is not None and now < known[0]:
            return known[1]
        principal, expires = await self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()  # cheap bound; a full cache only costs verifications until it refills
        self._verified[token] = (min(expires + self.settings.jwt_leeway_s, now + VERIFIED_FOR_S), principal)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        s = self.settings
        try:
            header = jwt.get_unverified_header(token)
            # Which key and checks apply is chosen from the unverified token; every path then verifies it in full,
            # with one algorithm per key (never the provider's public key as an HMAC secret).
            widget = WIDGET_AUDIENCE in _audiences(jwt.decode(token, options={"verify_signature": False}))
            audience: str | None
            issuer: str | None
            if widget:
                key: Any = self._secret
                algorithms, audience, issuer = ["HS256"], WIDGET_AUDIENCE, None
            elif self.jwks is not None:
                if header.get("alg") != "RS256":
                    raise AuthError("invalid_algorithm", "the identity provider's tokens are signed with RS256")
                key = await self.jwks.key(header.get("kid"))
                algorithms, audience, issuer = ["RS256"], s.jwt_audience, s.jwt_issuer
            else:
                key, algorithms, audience, issuer = self._secret, ["HS256"], s.jwt_audience, s.jwt_issuer
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=audience,
                issuer=issuer,
                leeway=s.jwt_leeway_s,
                options={"require": ["sub", "exp"], "verify_aud": audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token_expired", "the bearer token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError("invalid_audience", "the bearer token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise AuthError("invalid_issuer", "the bearer token comes from another issuer") from None
        except jwt.InvalidSignatureError:
            raise AuthError("invalid_signature", "the bearer token's signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise AuthError("invalid_token", f"the bearer token is not valid: {exc}") from None
        role = claims.get(s.jwt_role_claim) or "student"
        if role not in ROLES:
            raise AuthError("invalid_role", f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        sub = str(claims["sub"])
        if not sub or len(sub) > 100:
            raise AuthError("invalid_token", "the token's subject must be 1-100 characters")
        if widget:
            scope, origin = claims.get("course"), claims.get("origin")
            if not isinstance(scope, int) or not isinstance(origin, str) or role != "student":
                raise AuthError("invalid_token", "a widget token names its course and page origin")
            principal = Principal(user_id=sub, role="student", course_scope=scope, origin_scope=origin)
        else:
            principal = Principal(user_id=sub, role=role, email=claims.get("email"), full_name=claims.get("name"))
        return principal, float(claims["exp"])


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []


def mint_widget_token(settings: Settings, user_id: str, *, course_id: int, origin: str, ttl_s: int) -> str:
    """A student token for one course's widget on one page origin; it opens nothing else (api/auth.py)."""
    now = int(time.time())
    payload = {
        "sub": user_id,
        "role": "student",
        "aud": WIDGET_AUDIENCE,
        "course": course_id,
        "origin": origin,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(payload, local_jwt_secret(settings), algorithm="HS256")


def mint_token(
    settings: Settings, user_id: str, role: Role = "student", *, ttl_s: int = 7 * 24 * 3600, **claims: Any
) -> str:
    """A token signed with the local secret: for development, tests and `tutor up`'s printed tokens."""
    now = int(time.time())
    payload: dict[str, Any] = {"sub": user_id, "role": role, "iat": now, "exp": now + ttl_s, **claims}
    if settings.jwt_issuer:
        payload.setdefault("iss", settings.jwt_issuer)
    if settings.jwt_audience:
        payload.setdefault("aud", settings.jwt_audience)
    return jwt.encode(payload, local_jwt_secret(settings), algorithm="HS256")


# A request by a known, active user within this long of the last recorded one writes nothing: every API call
# otherwise pays a committed write (a WAL flush) just to move last_login by seconds.
LOGIN_REFRESH = timedelta(minutes=5)


# Set in session.info when sign-in wrote the user's row: the caller commits it before other sessions refer to it.
USER_ROW_WRITTEN = "tutor.user_row_written"

# Built once: it runs on every request, and building the statement cost as much as running it.
_KNOWN_USER = select(User.role, User.is_active, User.last_login).where(User.user_id == bindparam("user_id"))


async def sign_in(session: AsyncSession, principal: Principal) -> Principal:
    """Create or refresh the user's row on sight; refuse deactivated users.

    The row's role is the one an admin set, once set: a token cannot raise it (a school's IdP may send a
    stale or forged role claim; only a claim at or below the stored role is accepted).
    """
    now = utcnow()
    known = (await session.execute(_KNOWN_USER, {"user_id": principal.user_id})).one_or_none()
    if known is not None and known.last_login is not None and now - known.last_login < LOGIN_REFRESH:
        stored_role, is_active = known.role, known.is_active
    else:
        stored_role, is_active = await _record_sign_in(session, principal, now)
    if is_active is False:
        raise AuthError("user_inactive", "this account has been deactivated")
    if ROLES.index(principal.role) > ROLES.index(stored_role or "student"):
        raise AuthError("role_not_allowed", f"this user's role is {stored_role}, not {principal.role}")
    return principal


async def _record_sign_in(session: AsyncSession, principal: Principal, now: datetime) -> tuple[str | None, bool | None]:
    stmt = (
        insert(User)
        .values(
            user_id=principal.user_id,
            email=principal.email,
            full_name=principal.full_name,
            role=principal.role,
            last_login=now,
        )
        .on_conflict_do_update(index_elements=[User.user_id], set_={"last_login": now, "updated_at": now})
        .returning(User.role, User.is_active)
    )
    try:
        row = (await session.execute(stmt)).one()
    except IntegrityError:
        # e.g. an email that another user row already holds: sign in without touching the email
        await session.rollback()
        stmt = stmt.values(email=None)
        row = (await session.execute(stmt)).one()
    session.info[USER_ROW_WRITTEN] = True
    return row[0], row[1]


async def get_user(session: AsyncSession, user_id: str) -> User | None:
    return (await session.execute(select(User).where(User.user_id == user_id))).scalar_one_or_none()
