"""The student's page of a course, /learn/{course_id}: outline and progress, reviews due, week quizzes, the chat.

Signed in with the site's browser session (a sign-in link, or the host's token exchanged for one at
POST /api/sign-in-links). The chat runs on the JSON API with a short-lived bearer token minted here for the
signed-in person (with the local secret: a deployment on an identity provider's JWKS needs another way).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import get_clock, get_session, get_state
from api.pages.render import CONTENT_SECURITY_POLICY, render
from api.params import PathId
from api.state import AppState
from api.web_session import WebSession, current_web_session, current_web_user
from tutor.chat.history import sessions_of
from tutor.courses import visible_course
from tutor.identity import Principal, mint_token
from tutor.review.clock import Clock
from tutor.student_outline import student_outline

router = APIRouter(include_in_schema=False)
CHAT_TOKEN_TTL_S = 3600
SESSIONS_SHOWN = 30
# As the console's, except that style attributes may be set: KaTeX positions a formula's parts with them.
# <style> elements and stylesheets from elsewhere stay forbidden; replies are sanitized before they are shown.
LEARN_CSP = CONTENT_SECURITY_POLICY.replace("style-src 'self';", "style-src 'self'; style-src-attr 'unsafe-inline';")


def _with_csp(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = LEARN_CSP
    return response


@router.get("/learn/{course_id}")
async def learn_page(
    course_id: PathId,
    request: Request,
    user: Principal = Depends(current_web_user),
    web: WebSession = Depends(current_web_session),
    session: AsyncSession = Depends(get_session),
    state: AppState = Depends(get_state),
    clock: Clock = Depends(get_clock),
) -> Response:
    course = await visible_course(session, user, course_id)
    outline = await student_outline(session, course_id=course_id, user_id=user.user_id, now=clock.now())
    chats = await sessions_of(session, user_id=user.user_id, course_id=course_id, limit=SESSIONS_SHOWN)
    token = mint_token(state.settings, user.user_id, user.role, ttl_s=CHAT_TOKEN_TTL_S)
    return _with_csp(
        render(request, "learn/course.html", web=web, course=course, outline=outline, chats=chats, token=token)
    )


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
