"""Request dependencies: the app's state and one database session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.state import AppState
from db.engine import transaction
from tutor.review.clock import Clock


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.tutor
    return state


async def get_state(request: Request) -> AppState:
    """The dependency: `async`, since FastAPI runs a plain `def` dependency in its thread pool (a thread hop
    per request, queued behind the pool's 40 tokens under load)."""
    return state_of(request)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Routers call domain functions with this session; it commits once, when the request succeeds."""
    async with state_of(request).sessions() as session, transaction(session):
        yield session


async def get_clock(request: Request) -> Clock:
    """The time reviews are scheduled by: the system's, or the one a test gave the app."""
    return state_of(request).clock
