"""CORS for the embeddable widget: a page's origin is allowed only when a course lists it (courses.metadata)."""

from __future__ import annotations

import time

from sqlalchemy import select
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.models import Course
from tutor.embed import embed_settings

WIDGET_PATHS = ("/api/widget/", "/api/chat/stream", "/api/chat/sessions")
CACHE_S = 10.0


class WidgetCORS:
    """Answers preflights and adds Access-Control-Allow-Origin for allowed origins on the widget's routes only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._origins: set[str] = set()
        self._loaded = 0.0

    async def allowed(self, scope: Scope, origin: str) -> bool:
        if time.monotonic() - self._loaded > CACHE_S:
            state = scope["app"].state.tutor
            async with state.sessions() as session:
                rows = (await session.execute(select(Course.metadata_).where(Course.status == "active"))).scalars()
                self._origins = {o for meta in rows for o in embed_settings(meta).allowed_origins}
            self._loaded = time.monotonic()
        return origin in self._origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(WIDGET_PATHS):
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        if not origin or not await self.allowed(scope, origin):
            await self.app(scope, receive, send)  # no CORS headers: the browser refuses the response
            return
        cors = {
            "Access-Control-Allow-Origin": origin,
            "Vary": "Origin",
            "Access-Control-Allow-Headers": "authorization, content-type",
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Max-Age": "600",
        }
        if scope["method"] == "OPTIONS":
            await Response(status_code=204, headers=cors)(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in cors.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_cors)
