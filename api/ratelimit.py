"""Rate limits kept in Redis, so they hold across API workers (429 with Retry-After).

Redis is the job queue's broker, not a part the chat needs: when it cannot be reached the limits are counted in
this process instead (each API process then allows up to the limit on its own), so students keep their tutor while
only the broker is down. The switch is logged both ways.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from redis.exceptions import RedisError

from api.auth import current_user, widget_or_user
from api.deps import state_of
from tutor.errors import TutorError
from tutor.identity import Principal


class RateLimited(TutorError):
    status = 429

    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__("rate_limited", f"too many {what}; try again in {retry_after} s")
        self.retry_after = retry_after


log = logging.getLogger(__name__)

# After Redis failed, the limits are counted in process for this long before Redis is tried again: a down Redis
# costs one failed connect per interval, not one per request.
REDIS_RETRY_S = 5.0


class LocalWindows:
    """Fixed-window counters of one process, used while Redis is unreachable."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._counts: dict[str, tuple[int, float]] = {}  # name -> (count, expires at)
        self._clock = clock
        self.redis_down_until = 0.0  # while in the future, Redis is not tried

    def incr(self, name: str, window_s: int) -> int:
        now = self._clock()
        if len(self._counts) > 10_000:  # bounded: windows that ended are forgotten
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        count, expires = self._counts.get(name, (0, now + window_s + 1))
        self._counts[name] = (count + 1, expires)
        return count + 1

    def redis_failed(self, exc: BaseException) -> None:
        if self.redis_down_until == 0.0:
            log.warning("rate limits: Redis is unreachable (%s); counting in this process until it is back", exc)
        self.redis_down_until = self._clock() + REDIS_RETRY_S

    def redis_answered(self) -> None:
        if self.redis_down_until:
            log.warning("rate limits: Redis is back; counting there again")
            self.redis_down_until = 0.0

    @property
    def skip_redis(self) -> bool:
        return self._clock() < self.redis_down_until


def local_windows(request: Request) -> LocalWindows:
    """This app's (this process's) counters, made on first use."""
    windows: LocalWindows | None = getattr(request.app.state, "rate_windows", None)
    if windows is None:
        windows = request.app.state.rate_windows = LocalWindows()
    return windows


async def hit(request: Request, key: str, limit: int, window_s: int, what: str) -> None:
    """A fixed window per user: one INCR and, for the window's first hit, one EXPIRE (in Redis, or in this
    process while Redis is unreachable)."""
    window = int(time.time()) // window_s
    name = f"ratelimit:{key}:{window}"
    local = local_windows(request)
    count = None
    if not local.skip_redis:
        try:
            async with state_of(request).redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, window_s + 1)
                count, _ = await pipe.execute()
            local.redis_answered()
        except (RedisError, OSError) as exc:
            local.redis_failed(exc)
    if count is None:
        count = local.incr(name, window_s)
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
