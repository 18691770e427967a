"""The server-rendered pages (the teacher console at /teach, sign-in) and their static assets."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.pages import analytics, courses, embed, oidc, review, signin, transcripts, upload
from api.pages.render import redirect, render
from api.web_session import SignInRequired, optional_web_session
from tutor.errors import TutorError

STATIC = Path(__file__).resolve().parents[1] / "static" / "console"
PAGE_PREFIXES = ("/teach", "/signin", "/signout", "/embed/")


def is_page(path: str) -> bool:
    """Pages answer errors with an error page; the console's own JSON endpoints keep the JSON error shape."""
    return (path == "/" or path.startswith(PAGE_PREFIXES)) and not path.startswith("/teach/api/")


def install_pages(app: FastAPI) -> None:
    routers = (
        signin.router,
        signin.api_router,
        oidc.router,
        courses.router,
        upload.router,
        review.router,
        transcripts.router,
        analytics.router,
        embed.router,
    )
    for router in routers:
        app.include_router(router)
    app.mount("/static/console", StaticFiles(directory=STATIC), name="console-static")
    _html_errors(app)


def _html_errors(app: FastAPI) -> None:
    """Wrap the app's JSON error handlers: on a page, the same failure is shown as a page in words."""
    for kind in (TutorError, StarletteHTTPException, RequestValidationError):
        json_handler = app.exception_handlers[kind]

        async def handler(request: Request, exc: Any, _json: Any = json_handler) -> Response:
            response: Response = await _json(request, exc)
            if not is_page(request.url.path):
                return response
            if isinstance(exc, SignInRequired) and request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return redirect(f"/signin?next={quote(target, safe='')}")
            message = getattr(exc, "message", None) or getattr(exc, "detail", None) or "this request is not valid"
            if isinstance(exc, RequestValidationError):
                message = "some fields are missing or not valid: " + "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}" for e in exc.errors()[:5]
                )
            web = await optional_web_session(request)
            return render(
                request,
                "error.html",
                web=web,
                status=response.status_code,
                status_code=response.status_code,
                message=str(message),
            )

        app.add_exception_handler(kind, handler)
