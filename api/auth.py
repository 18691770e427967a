"""Authentication as a dependency: every route that needs a person says so, and cannot forget it.

Two kinds of principal reach the API: people (a school's token) and widget visitors (a token minted for one
course's widget on one page origin). `current_user` admits people only; the few routes a widget needs use
`widget_or_user`, which admits a widget token from its own page origin. Which course a widget token may touch is
checked where courses are looked up (`tutor.courses.visible_course`), so no route can forget that either.

A browser signed in to the site's pages (api/web_session.py) calls the same routes with its session cookie instead
of a bearer token: the student page's chat, the console's exports. A state-changing request then carries the
session's CSRF token in a header; a bearer token, when sent, is what counts.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_session, state_of
from api.web_session import check_csrf_header, optional_web_session
from tutor.identity import USER_ROW_WRITTEN, AuthError, Principal, sign_in

bearer = HTTPBearer(auto_error=False, description="A JWT from the school's identity provider")


async def signed_in(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    session: AsyncSession = Depends(get_session),
) -> Principal:
    """Whoever the bearer token (or else the browser session) names, signed in; which routes they may use is for
    the dependencies below."""
    if credentials is not None:
        principal = await state_of(request).verifier.verify(credentials.credentials)
    else:
        web = await optional_web_session(request)
        if web is None:
            raise AuthError("missing_token", "send `Authorization: Bearer <token>`")
        check_csrf_header(request, web)
        principal = web.principal
    user = await sign_in(session, principal)
    # A new or refreshed user row is committed at once: work in other sessions refers to it. A sign-in that
    # only read goes on as the route's transaction (a COMMIT and a BEGIN fewer on every chat turn); the
    # request's session ends it when the handler returns.
    if session.info.pop(USER_ROW_WRITTEN, False):
        await session.commit()
    return user


async def current_user(user: Principal = Depends(signed_in)) -> Principal:
    if user.is_widget:
        raise AuthError("widget_token_not_allowed", "a widget token only opens its course's chat", status=403)
    return user


async def widget_or_user(request: Request, user: Principal = Depends(signed_in)) -> Principal:
    """A person, or a widget visitor calling from the page origin their token was issued to."""
    if user.origin_scope is not None and request.headers.get("origin") != user.origin_scope:
        raise AuthError("origin_not_allowed", "this token belongs to another page", status=403)
    return user


async def current_teacher(user: Principal = Depends(current_user)) -> Principal:
    if not user.is_teacher:
        raise AuthError("teacher_only", "this needs a teacher's account", status=403)
    return user


async def current_admin(user: Principal = Depends(current_user)) -> Principal:
    if not user.is_admin:
        raise AuthError("admin_only", "this needs an admin's account", status=403)
    return user
