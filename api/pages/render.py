"""Rendering console pages: autoescaped Jinja2 templates, and the security headers every page carries."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.web_session import CSRF_FIELD, WebSession

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

# No inline script or style may run: whatever a student typed or a PDF held is text, whatever slips through
# escaping still cannot execute. Scripts are the console's own modules; forms post only here; no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every {{ }} is escaped: student text, PDF text and model output are untrusted
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["csrf_field"] = CSRF_FIELD
    return env


def secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.status_code in (301, 302, 303, 307, 308):
        response.headers["Referrer-Policy"] = "no-referrer"  # a sign-in link's code never leaks onward
    return response


def render(
    request: Request, template: str, *, web: WebSession | None = None, status: int = 200, **context: Any
) -> HTMLResponse:
    html = environment().get_template(template).render(request=request, web=web, **context)
    response = HTMLResponse(html, status_code=status)
    secure(response)
    return response


def redirect(url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    secure(response)
    return response
