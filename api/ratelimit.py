"""Per-user rate limits kept in Redis, so they hold across API workers (429 with Retry-After)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request

from api.auth import current_user
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


def limit(kind: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates and then counts the request against the user's `kind` budget."""

    async def dependency(request: Request, user: Principal = Depends(current_user)) -> Principal:
        settings = state_of(request).settings
        if kind == "chat":
            await hit(request, f"chat:{user.user_id}", settings.rate_limit_chat_per_minute, 60, "chat messages")
        elif kind == "upload":
            await hit(request, f"upload:{user.user_id}", settings.rate_limit_uploads_per_hour, 3600, "uploads")
        return user

    return dependency
