"""Authentication as a dependency: every route that needs a person says so, and cannot forget it."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session, state_of
from tutor.identity import USER_ROW_WRITTEN, AuthError, Principal, sign_in

bearer = HTTPBearer(auto_error=False, description="A JWT from the school's identity provider")


async def current_user(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    session: AsyncSession = Depends(get_session),
) -> Principal:
    if credentials is None:
        raise AuthError("missing_token", "send `Authorization: Bearer <token>`")
    principal = state_of(request).verifier.verify(credentials.credentials)
    signed_in = await sign_in(session, principal)
    # A new or refreshed user row is committed at once: work in other sessions refers to it. A sign-in that
    # only read goes on as the route's transaction (a COMMIT and a BEGIN fewer on every chat turn); the
    # request's session ends it when the handler returns.
    if session.info.pop(USER_ROW_WRITTEN, False):
        await session.commit()
    return signed_in


async def current_teacher(user: Principal = Depends(current_user)) -> Principal:
    if not user.is_teacher:
        raise AuthError("teacher_only", "this needs a teacher's account", status=403)
    return user


async def current_admin(user: Principal = Depends(current_user)) -> Principal:
    if not user.is_admin:
        raise AuthError("admin_only", "this needs an admin's account", status=403)
    return user
