"""Browser sign-in for the server-rendered pages: one-time sign-in codes, server-side sessions, CSRF tokens.

Both codes and sessions live in Redis under the SHA-256 of their secret: a leaked Redis dump holds no usable
cookie or link, a session is revoked by deleting its key, and every API process sees the same sessions. The JSON
API's bearer tokens are untouched; pages use `current_web_user` / `current_web_teacher` and `csrf_protect`, and
the JSON API takes the same session from a page's scripts (api/auth.py), with the CSRF token in a header
(`check_csrf_header`) on every state-changing request.

A session may be scoped to one course: an anonymous visitor of a course's student page (api/pages/learn.py) gets
a visitor identity for that course only, as the widget's visitors do (`Principal.course_scope`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import cast

from fastapi import Depends, Request, Response
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session, state_of
from tutor.errors import TutorError
from tutor.identity import ROLES, USER_ROW_WRITTEN, AuthError, Principal, Role, sign_in

SESSION_COOKIE = "tutor_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CODE_TTL_S = 10 * 60
SESSION_TTL_S = 12 * 3600
_CODE_KEY = "web:code:"
_SESSION_KEY = "web:session:"


class SignInRequired(AuthError):
    """No (valid) browser session: pages answer with the sign-in page, JSON callers with 401."""


class CsrfError(TutorError):
    status = 403


@dataclass(frozen=True)
class WebSession:
    key: str  # the hash of the cookie's secret: the Redis key's suffix
    user_id: str
    role: Role
    csrf_token: str
    created_at: float
    course_scope: int | None = None  # an anonymous visitor's course: they reach nothing else

    @property
    def principal(self) -> Principal:
        return Principal(self.user_id, self.role, course_scope=self.course_scope)

    @property
    def is_visitor(self) -> bool:
        return self.course_scope is not None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_sign_in_code(redis: Redis, principal: Principal, *, ttl_s: int = CODE_TTL_S) -> str:
    """A random code that signs `principal` in once, within `ttl_s`; only its hash is stored."""
    code = secrets.token_urlsafe(32)
    record = json.dumps({"user_id": principal.user_id, "role": principal.role})
    await redis.set(_CODE_KEY + _digest(code), record, ex=ttl_s)
    return code


async def redeem_sign_in_code(redis: Redis, code: str) -> Principal | None:
    """The code's principal, and the code is gone: a second use (or an expired code) gets None."""
    if not code or len(code) > 100:
        return None
    key = _CODE_KEY + _digest(code)
    async with redis.pipeline(transaction=True) as pipe:  # read and delete atomically: two tabs, one winner
        pipe.get(key)
        pipe.delete(key)
        raw, _ = await pipe.execute()
    if raw is None:
        return None
    record = json.loads(raw)
    if record.get("role") not in ROLES:
        return None
    return Principal(str(record["user_id"]), cast(Role, record["role"]))


async def start_session(redis: Redis, principal: Principal) -> tuple[str, WebSession]:
    """A new session (never a reused id, so a planted cookie cannot be promoted); returns the cookie value."""
    secret = secrets.token_urlsafe(32)
    web = WebSession(
        _digest(secret),
        principal.user_id,
        principal.role,
        secrets.token_urlsafe(32),
        time.time(),
        principal.course_scope,
    )
    record = {
        "user_id": web.user_id,
        "role": web.role,
        "csrf": web.csrf_token,
        "created_at": web.created_at,
        "course": web.course_scope,
    }
    await redis.set(_SESSION_KEY + web.key, json.dumps(record), ex=SESSION_TTL_S)
    return secret, web


async def load_session(redis: Redis, secret: str | None) -> WebSession | None:
    if not secret or len(secret) > 100:
        return None
    key = _digest(secret)
    raw = await redis.get(_SESSION_KEY + key)
    if raw is None:
        return None
    r = json.loads(raw)
    course = r.get("course")
    return WebSession(
        key, r["user_id"], r["role"], r["csrf"], float(r["created_at"]), course if isinstance(course, int) else None
    )


async def end_session(redis: Redis, web: WebSession) -> None:
    await redis.delete(_SESSION_KEY + web.key)


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=SESSION_TTL_S,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )


async def optional_web_session(request: Request) -> WebSession | None:
    return await load_session(state_of(request).redis, request.cookies.get(SESSION_COOKIE))


async def current_web_session(web: WebSession | None = Depends(optional_web_session)) -> WebSession:
    if web is None:
        raise SignInRequired("sign_in_required", "sign in to continue")
    return web


async def current_web_user(
    web: WebSession = Depends(current_web_session), session: AsyncSession = Depends(get_session)
) -> Principal:
    """The session's user, checked against the users row on every request: a deactivated account (or a role an
    admin lowered) stops working at once, not when the cookie expires."""
    return await web_user(session, web)


async def web_user(session: AsyncSession, web: WebSession) -> Principal:
    """`current_web_user` for a session the handler has in hand (one it has just started)."""
    principal = await sign_in(session, web.principal)
    if session.info.pop(USER_ROW_WRITTEN, False):
        await session.commit()
    return principal


async def current_web_teacher(user: Principal = Depends(current_web_user)) -> Principal:
    if not user.is_teacher:
        raise AuthError("teacher_only", "the teacher console needs a teacher's account", status=403)
    return user


async def csrf_protect(request: Request, web: WebSession = Depends(current_web_session)) -> WebSession:
    """A state-changing request carries the session's CSRF token (header for scripts, hidden field for forms)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)  # parsed once: the handler's Form() fields reuse it
        sent = value if isinstance(value, str) else None
    _check_csrf(sent, web)
    return web


def check_csrf_header(request: Request, web: WebSession) -> None:
    """For the JSON API called with the session cookie: a state-changing request names the session's CSRF token in
    the `X-CSRF-Token` header (a custom header, which another site's page cannot send without our CORS consent)."""
    if request.method not in SAFE_METHODS:
        _check_csrf(request.headers.get(CSRF_HEADER), web)


def _check_csrf(sent: str | None, web: WebSession) -> None:
    if not sent or not secrets.compare_digest(sent.encode(), web.csrf_token.encode()):
        raise CsrfError("csrf_failed", "this form has expired or did not come from this site; reload and try again")
