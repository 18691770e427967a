"""Request dependencies: the app's state and one database session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.state import AppState
from db.engine import transaction


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.tutor
    return state


async def get_state(request: Request) -> AppState:
    """The dependency: `async`, since FastAPI runs a plain `def` dependency in its thread pool (a thread hop
    per request, queued behind the pool's 40 tokens under load)."""
    return state_of(request)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Routers call domain functions with this session; it commits once, when the handler has succeeded, and
    before the response is sent.

    FastAPI runs a dependency's exit after the response has gone out: a commit there could fail unseen, after the
    client was told it worked (and a handler could delete files before its rows were committed). The commit is
    therefore put on the handler's own exit stack, which FastAPI closes before it sends the response; a failed
    commit becomes the request's error response. The exit here only closes the session (and rolls back on error).
    """
    async with state_of(request).sessions() as session, transaction(session):
        handler_stack: AsyncExitStack | None = request.scope.get("fastapi_function_astack")
        if handler_stack is not None:
            handler_stack.push_async_exit(_commit_on_success(session))
        yield session


def _commit_on_success(session: AsyncSession) -> Callable[..., Awaitable[bool]]:
    async def exit_(exc_type: type[BaseException] | None, *_: object) -> bool:
        if exc_type is None and session.in_transaction():
            await session.commit()
        return False

    return exit_
