"""LTI 1.3 routes: login initiation, launch, deep linking, the tool's JWKS, and the admins' and teachers' JSON API.

Browser-facing routes answer every refusal with an HTML page (the user is in the LMS's window), logged.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_admin, current_teacher
from api.deps import get_session, state_of
from api.pages.render import redirect, render
from api.ratelimit import client_address, hit
from api.web_session import WebSession, csrf_protect, current_web_teacher, set_session_cookie, start_session
from tutor.errors import TutorError
from tutor.identity import Principal
from tutor.lti import deep_linking, platforms, roster
from tutor.lti.keys import jwks
from tutor.lti.launch import LoginRequest, PlatformKeys, origin_of, start_login, verify_launch
from tutor.lti.signin import sign_in_launch

log = logging.getLogger(__name__)
router = APIRouter(tags=["lti"])
AUTOSUBMIT_JS = Path(__file__).resolve().parents[1] / "static" / "lti" / "autosubmit.js"


def _keys(request: Request) -> PlatformKeys:
    keys: PlatformKeys | None = getattr(request.app.state, "lti_platform_keys", None)
    if keys is None:
        keys = request.app.state.lti_platform_keys = PlatformKeys()
    return keys


def _refused(request: Request, exc: TutorError, what: str) -> Response:
    log.warning("LTI %s refused: %s: %s", what, exc.code, exc.message)
    response = render(request, "lti_error.html", status=exc.status, code=exc.code, message=exc.message)
    return _within_lms(response, "*")  # shown in the LMS's frame; it has no form or link to abuse


def _within_lms(response: Response, frame_origin: str, *, form_action: str | None = None) -> Response:
    """A page the LMS shows in its frame: framing allowed to the LMS's origin only (the console's pages forbid
    all framing); forms may post to `form_action` (the LMS) instead of this site."""
    csp = response.headers["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", f"frame-ancestors {frame_origin}"
    )
    if form_action is not None:
        csp = csp.replace("form-action 'self'", f"form-action {form_action}")
    response.headers["Content-Security-Policy"] = csp
    del response.headers["X-Frame-Options"]
    return response


def _launch_url(request: Request) -> str:
    """The redirect URI the LMS has registered: TUTOR_PUBLIC_URL's when set (behind a proxy the request's own
    address may differ), else this request's."""
    public = state_of(request).settings.public_url
    return f"{public.rstrip('/')}/lti/launch" if public else str(request.url_for("lti_launch"))


LOGINS_PER_ADDRESS_MINUTE = 600
_LOGIN_FIELDS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_deployment_id")


@router.api_route("/lti/login", methods=["GET", "POST"], include_in_schema=False)
async def login(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
    given = {k: str(v)[:2000] for k, v in params.items() if k in _LOGIN_FIELDS and v}
    try:
        # Each login stores a state for 10 minutes: anyone may start one, so their number is bounded per address
        # (generously: a school's launches may all come from one NAT address).
        await hit(request, f"lti-login:{client_address(request)}", LOGINS_PER_ADDRESS_MINUTE, 60, "LTI logins")
        login = LoginRequest(
            iss=given.pop("iss", ""),
            login_hint=given.pop("login_hint", ""),
            target_link_uri=given.pop("target_link_uri", ""),
            **given,
        )
        url = await start_login(session, state_of(request).redis, login, _launch_url(request))
    except TutorError as exc:
        return _refused(request, exc, "login")
    return redirect(url)


@router.post("/lti/launch", name="lti_launch", include_in_schema=False)
async def launch(
    request: Request,
    id_token: str = Form(""),  # lengths are checked by the launch, whose refusals are pages
    state: str = Form(""),
    session: AsyncSession = Depends(get_session),
) -> Response:
    app = state_of(request)
    try:
        verified = await verify_launch(
            session, app.redis, _keys(request), id_token=id_token, state=state, leeway_s=app.settings.jwt_leeway_s
        )
        outcome = await sign_in_launch(session, verified)
        flow_id = await deep_linking.start(app.redis, verified, outcome.user) if outcome.deep_linking else None
    except TutorError as exc:
        await session.rollback()  # nothing of a refused launch is kept
        return _refused(request, exc, "launch")
    await session.commit()  # the user row before the session that names it
    secret, _ = await start_session(app.redis, outcome.user)
    if flow_id is not None:
        courses = await deep_linking.choices(session, outcome.user)
        response: Response = render(request, "lti_deep_link.html", flow=flow_id, courses=courses)
        response = _within_lms(response, origin_of(verified.platform.auth_login_url))
    else:
        response = redirect(outcome.target)
    set_session_cookie(request, response, secret)
    return response


@router.post("/lti/deep-link", include_in_schema=False)
async def deep_link(
    request: Request,
    flow: str = Form(""),
    choice: str = Form(""),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """The teacher's pick. The flow id (random, single use, issued only in the launch's answer) authorizes it: the
    picker usually runs in the LMS's frame, where the browser withholds our SameSite cookie."""
    try:
        answer = await deep_linking.finish(session, state_of(request).redis, flow, choice, _launch_url(request))
    except TutorError as exc:
        return _refused(request, exc, "deep link")
    response = render(request, "lti_deep_link_return.html", answer=answer)
    return _within_lms(response, answer.platform_origin, form_action=answer.return_origin)


@router.get("/lti/autosubmit.js", include_in_schema=False)
async def autosubmit_js() -> Response:
    return Response(AUTOSUBMIT_JS.read_bytes(), media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})


@router.get("/lti/jwks.json")
@router.get("/.well-known/jwks.json")
async def tool_jwks(session: AsyncSession = Depends(get_session)) -> JSONResponse:
    """The tool's public keys: the LMS verifies deep linking answers and service requests with them."""
    return JSONResponse(await jwks(session), headers={"Cache-Control": "max-age=300"})


class PlatformIn(BaseModel):
    issuer: str = Field(min_length=1, max_length=255)
    client_id: str = Field(min_length=1, max_length=255)
    deployment_ids: list[str] = Field(min_length=1, max_length=100)
    jwks_url: str = Field(min_length=1, max_length=2000)
    auth_login_url: str = Field(min_length=1, max_length=2000)
    token_url: str = Field(min_length=1, max_length=2000)
    name: str | None = Field(default=None, max_length=255)


class PlatformOut(PlatformIn):
    id: int


def _out(p: Any) -> PlatformOut:
    return PlatformOut(
        id=p.id,
        issuer=p.issuer,
        client_id=p.client_id,
        deployment_ids=list(p.deployment_ids),
        jwks_url=p.jwks_url,
        auth_login_url=p.auth_login_url,
        token_url=p.token_url,
        name=p.name,
    )


@router.get("/api/lti/platforms")
async def list_platforms(
    _: Principal = Depends(current_admin), session: AsyncSession = Depends(get_session)
) -> list[PlatformOut]:
    return [_out(p) for p in await platforms.list_platforms(session)]


@router.post("/api/lti/platforms", status_code=201)
async def add_platform(
    body: PlatformIn, _: Principal = Depends(current_admin), session: AsyncSession = Depends(get_session)
) -> PlatformOut:
    return _out(await platforms.add_platform(session, platforms.PlatformInput(**body.model_dump())))


@router.delete("/api/lti/platforms/{platform_id}", status_code=204)
async def remove_platform(
    platform_id: int, _: Principal = Depends(current_admin), session: AsyncSession = Depends(get_session)
) -> Response:
    await platforms.remove_platform(session, platform_id)
    return Response(status_code=204)


@router.post("/teach/courses/{course_id}/lms-roster", include_in_schema=False)
async def sync_roster_page(
    course_id: int,
    _: WebSession = Depends(csrf_protect),
    user: Principal = Depends(current_web_teacher),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """The console's button: the same sync, then back to the course's analytics."""
    await roster.sync(session, user, course_id)
    return redirect(f"/teach/courses/{course_id}/analytics#progress-title")


@router.post("/api/lti/courses/{course_id}/roster-sync")
async def sync_roster(
    course_id: int,
    user: Principal = Depends(current_teacher),
    session: AsyncSession = Depends(get_session),
) -> roster.RosterSync:
    """Read the LMS course's members (Names and Role Provisioning): its students appear in the course's analytics,
    also those who have not opened the tutor yet."""
    return await roster.sync(session, user, course_id)
