"""Rate limits kept in Redis, so they hold across API workers (429 with Retry-After)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request

from api.auth import current_user, widget_or_user
from api.deps import state_of
from tutor.errors import TutorError
from tutor.identity import Principal


class RateLimited(TutorError):
    status = 429

    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__("rate_limited", f"too many {what}; try again in {retry_after} s")
        self.retry_after = retry_after


async def hit(request: Request, key: str, limit: int, window_s: int, what: str) -> None:
    """A fixed window per user: one INCR and, for the window's first hit, one EXPIRE."""
    redis = state_of(request).redis
    window = int(time.time()) // window_s
    name = f"ratelimit:{key}:{window}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(name)
        pipe.expire(name, window_s + 1)
        count, _ = await pipe.execute()
    if int(count) > limit:
        raise RateLimited(retry_after=window_s - int(time.time()) % window_s, what=what)


def client_address(request: Request) -> str:
    """The caller's address as uvicorn saw it (behind a proxy, run uvicorn with --proxy-headers and
    --forwarded-allow-ips so this is the visitor's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


async def count_new_visitor(request: Request, course_id: int) -> None:
    """A new anonymous identity (a widget session, a guest on a course's page). A script can claim any origin and
    any visitor id: the budgets that hold are per client address and per course."""
    settings = state_of(request).settings
    await hit(
        request,
        f"widget-session-ip:{client_address(request)}",
        settings.rate_limit_widget_sessions_per_address_hour,
        3600,
        "widget sessions from this address",
    )
    await hit(
        request,
        f"widget-session-course:{course_id}",
        settings.rate_limit_widget_sessions_per_course_hour,
        3600,
        "widget sessions for this course",
    )


def limit(kind: str, *, widget: bool = False) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates and then counts the request against the user's `kind` budget.

    `widget`: the route also admits widget tokens. Their user ids are visitor ids a script can make up, so a
    widget's chat is also counted per client address and per course, which no made-up id escapes.
    """

    async def dependency(
        request: Request, user: Principal = Depends(widget_or_user if widget else current_user)
    ) -> Principal:
        settings = state_of(request).settings
        if kind == "chat":
            await hit(request, f"chat:{user.user_id}", settings.rate_limit_chat_per_minute, 60, "chat messages")
            if user.is_widget:
                await hit(
                    request,
                    f"widget-chat-ip:{client_address(request)}",
                    settings.rate_limit_widget_chat_per_address_minute,
                    60,
                    "chat messages from this address",
                )
                await hit(
                    request,
                    f"widget-chat-course:{user.course_scope}",
                    settings.rate_limit_widget_chat_per_course_minute,
                    60,
                    "chat messages in this course's widget",
                )
        elif kind == "upload":
            await hit(request, f"upload:{user.user_id}", settings.rate_limit_uploads_per_hour, 3600, "uploads")
        return user

    return dependency
