"""Who is asking: bearer JWTs from the school's identity provider, verified and mapped to a users row."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

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
    # Widget tokens are limited to one course and the page origin they were issued to.
    course_scope: int | None = None
    origin_scope: str | None = None

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


class TokenVerifier:
    """Verifies HS256 tokens with the shared secret, or RS256 tokens against the provider's JWKS."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._secret = local_jwt_secret(settings) if not settings.jwt_jwks_url else None
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True) if settings.jwt_jwks_url else None
        self._verified: dict[str, tuple[float, Principal]] = {}  # token -> (valid until, principal)

    def verify(self, token: str) -> Principal:
        """The token's principal; a token verified in the last minute is not verified again (it is checked per
        request, and the signature check is a measurable share of a busy API's time). Expiry is still checked."""
        now = time.time()
        known = self._verified.get(token)
        if known is not None and now < known[0]:
            return known[1]
        principal, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()  # cheap bound; a full cache only costs verifications until it refills
        self._verified[token] = (min(expires + self.settings.jwt_leeway_s, now + VERIFIED_FOR_S), principal)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        s = self.settings
        options: Any = {"require": ["sub", "exp"], "verify_aud": s.jwt_audience is not None}
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256"]
            else:
                key, algorithms = self._secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=s.jwt_audience,
                issuer=s.jwt_issuer,
                leeway=s.jwt_leeway_s,
                options=options,
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
        scope = claims.get("course")
        principal = Principal(
            user_id=sub,
            role=role,
            email=claims.get("email"),
            full_name=claims.get("name"),
            course_scope=int(scope) if isinstance(scope, int) else None,
            origin_scope=claims.get("origin"),
        )
        return principal, float(claims["exp"])


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
