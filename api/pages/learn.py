"""The student's page of a course, /learn/{course_id}: outline and progress, reviews due, week quizzes, the chat.

Signed in with the site's browser session (a sign-in link, OIDC, or the host's token exchanged for a link at
POST /api/sign-in-links); the page's scripts call the JSON API (chat stream, sessions, source links) with that
session and its CSRF token (api/auth.py), so the page works whichever identity provider signs the API's tokens.
A visitor without a session gets a guest identity for this course alone when the course takes anonymous
visitors (the widget's rule, budgets and cap: tutor.embed, tutor.visitors); otherwise they are sent to sign in.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_clock, get_session, get_state
from api.pages.render import CONTENT_SECURITY_POLICY, render
from api.params import PathId
from api.ratelimit import count_new_visitor
from api.state import AppState
from api.web_session import (
    SignInRequired,
    WebSession,
    current_web_session,
    current_web_user,
    optional_web_session,
    set_session_cookie,
    start_session,
    web_user,
)
from tutor.chat.history import sessions_of
from tutor.courses import visible_course
from tutor.embed import embed_settings
from tutor.errors import NotFoundError
from tutor.identity import Principal
from tutor.review.clock import Clock
from tutor.student_outline import student_outline
from tutor.visitors import admit_visitor, visitor_prefix

router = APIRouter(include_in_schema=False)
SESSIONS_SHOWN = 30
# As the console's, except that style attributes may be set: KaTeX positions a formula's parts with them.
# <style> elements and stylesheets from elsewhere stay forbidden; replies are sanitized before they are shown.
LEARN_CSP = CONTENT_SECURITY_POLICY.replace("style-src 'self';", "style-src 'self'; style-src-attr 'unsafe-inline';")


def _with_csp(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = LEARN_CSP
    return response


def _sign_in_first() -> SignInRequired:
    return SignInRequired("sign_in_required", "sign in to use this course")


async def _guest(request: Request, session: AsyncSession, state: AppState, course_id: int) -> tuple[str, WebSession]:
    """A new guest of this course (cookie secret and session), if the course takes anonymous visitors."""
    guest = Principal(visitor_prefix(course_id) + "page-" + secrets.token_hex(12), "student", course_scope=course_id)
    course = await visible_course(session, guest, course_id)
    if not embed_settings(course.metadata_).admits_anonymous:
        raise _sign_in_first()
    await count_new_visitor(request, course_id)
    await admit_visitor(session, state.redis, course, guest.user_id, state.settings.max_widget_visitors_per_course)
    return await start_session(state.redis, guest)


@router.get("/learn/{course_id}")
async def learn_page(
    course_id: PathId,
    request: Request,
    web: WebSession | None = Depends(optional_web_session),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
    clock: Clock = Depends(get_clock),
) -> Response:
    cookie = None
    if web is None or (web.is_visitor and web.course_scope != course_id):
        try:
            cookie, web = await _guest(request, session, state, course_id)
        except NotFoundError:
            # A course that is not there (or not published) looks like one that needs a sign-in: no id probing.
            raise _sign_in_first() from None
    user = await web_user(session, web)
    course = await visible_course(session, user, course_id)
    if web.is_visitor and not embed_settings(course.metadata_).admits_anonymous:
        raise _sign_in_first()  # the teacher closed the course to guests since this one came
    outline = await student_outline(session, course_id=course_id, user_id=user.user_id, now=clock.now())
    chats = await sessions_of(session, user_id=user.user_id, course_id=course_id, limit=SESSIONS_SHOWN)
    response = _with_csp(render(request, "learn/course.html", web=web, course=course, outline=outline, chats=chats))
    if cookie is not None:
        set_session_cookie(request, response, cookie)
    return response


@router.get("/learn/{course_id}/panel")
async def learn_panel(
    course_id: PathId,
    request: Request,
    user: Principal = Depends(current_web_user),
    web: WebSession = Depends(current_web_session),
    session: AsyncSession = Depends(get_session),
    clock: Clock = Depends(get_clock),
) -> Response:
    """The outline and reviews again, after a quiz answer changed them (the page swaps them in)."""
    course = await visible_course(session, user, course_id)
    outline = await student_outline(session, course_id=course_id, user_id=user.user_id, now=clock.now())
    return _with_csp(render(request, "learn/_panel.html", web=web, course=course, outline=outline))
