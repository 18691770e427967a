"""Request dependencies: the app's state and one database session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.state import AppState


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.tutor
    return state


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Routers call domain functions with this session; it commits once, when the request succeeds."""
    async with get_state(request).sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
