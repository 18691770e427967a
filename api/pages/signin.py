"""Signing in to the pages: `/` sends people where they belong, one-time links become sessions, sign out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.deps import get_session, state_of
from api.pages.render import redirect, render
from api.web_session import (
    CODE_TTL_S,
    WebSession,
    clear_session_cookie,
    csrf_protect,
    end_session,
    issue_sign_in_code,
    optional_web_session,
    redeem_sign_in_code,
    set_session_cookie,
    start_session,
)
from tutor.identity import AuthError, Principal, sign_in

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["users"])


class SignInLinkOut(BaseModel):
    url: str
    expires_in: int


def _safe_next(target: str | None) -> str:
    # Only a path of this site: an open redirect would turn a real sign-in link into a phishing hop.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/teach"


@router.get("/")
async def home(web: WebSession | None = Depends(optional_web_session)) -> Response:
    if web is not None and web.principal.is_teacher:
        return redirect("/teach")
    return redirect("/signin")


@router.get("/signin")
async def signin_page(
    request: Request, next: str | None = None, web: WebSession | None = Depends(optional_web_session)
) -> Response:
    return render(
        request, "signin.html", web=web, next=_safe_next(next), code_minutes=CODE_TTL_S // 60, oidc=_oidc(request)
    )


def _oidc(request: Request) -> bool:
    settings = state_of(request).settings
    return bool(settings.oidc_issuer and settings.oidc_client_id)


@router.get("/signin/link")
async def redeem_link(
    request: Request,
    code: str = Query("", max_length=100),
    next: str | None = None,
    web: WebSession | None = Depends(optional_web_session),
    session: AsyncSession = Depends(get_session),
) -> Response:
    redis = state_of(request).redis
    principal = await redeem_sign_in_code(redis, code)
    if principal is None:
        return render(
            request,
            "signin.html",
            web=web,
            status=400,
            next=_safe_next(next),
            code_minutes=CODE_TTL_S // 60,
            oidc=_oidc(request),
            problem="This sign-in link has expired or was already used. Ask for a new one (see below).",
        )
    try:
        await sign_in(session, principal)  # a deactivated account gets no session
    except AuthError as exc:
        return render(
            request,
            "signin.html",
            web=None,
            status=403,
            next="/teach",
            code_minutes=CODE_TTL_S // 60,
            problem=exc.message,
        )
    if web is not None:
        await end_session(redis, web)
    secret, _ = await start_session(redis, principal)
    response = redirect(_safe_next(next) if principal.is_teacher else "/signin")
    set_session_cookie(request, response, secret)
    return response


@router.post("/signout")
async def signout(request: Request, web: WebSession = Depends(csrf_protect)) -> Response:
    await end_session(state_of(request).redis, web)
    response = redirect("/signin")
    clear_session_cookie(request, response)
    return response


@api_router.post(
    "/api/sign-in-links",
    response_model=SignInLinkOut,
    summary="A one-time browser sign-in link for the bearer of this token (minutes, single use)",
)
async def sign_in_link(request: Request, user: Principal = Depends(current_user)) -> SignInLinkOut:
    if user.course_scope is not None or user.origin_scope is not None:
        raise AuthError("scoped_token", "a widget's token cannot sign in to the site", status=403)
    code = await issue_sign_in_code(state_of(request).redis, Principal(user.user_id, user.role))
    base = str(request.base_url).rstrip("/")
    return SignInLinkOut(url=f"{base}/signin/link?code={code}", expires_in=CODE_TTL_S)
