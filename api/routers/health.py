"""Liveness (/healthz) and readiness (/readyz: database, broker and vector store reachable)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.deps import get_state
from api.errors import error_body
from api.state import AppState
from db.engine import ping

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 3.0
FIRST_OPEN_TIMEOUT_S = 30.0


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(
    name: str, probe: Callable[[], Awaitable[Any]], timeout: float = CHECK_TIMEOUT_S
) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(probe(), timeout)
        return name, None
    except TimeoutError:
        return name, f"timed out after {timeout:.0f} s"
    except Exception as exc:
        return name, f"{type(exc).__name__}: {exc}".strip()[:300]


@router.get(
    "/readyz",
    summary="Database, broker and vector store are reachable",
    responses={503: {"description": "A dependency is unreachable; the body names it"}},
)
async def readyz(state: AppState = Depends(get_state)) -> JSONResponse:
    async def vector_store() -> None:
        # Opened in a thread too: the first open imports Chroma (seconds on a busy machine), which in the event
        # loop would stall the other probes past their timeouts.
        store = await asyncio.to_thread(state.vector_store)
        await asyncio.to_thread(store.heartbeat)

    results = await asyncio.gather(
        _check("database", lambda: ping(state.engine)),
        _check("broker", lambda: state.redis.ping()),
        # The first probe also imports and opens Chroma: seconds on a busy machine, not a sign of an outage.
        _check("vector_store", vector_store, CHECK_TIMEOUT_S if state.vector_store_open else FIRST_OPEN_TIMEOUT_S),
    )
    checks = {name: ("ok" if problem is None else problem) for name, problem in results}
    failing = [name for name, problem in results if problem is not None]
    if failing:
        message = "; ".join(f"{name} unreachable ({checks[name]})" for name in failing)
        return JSONResponse(error_body("not_ready", message, checks=checks), status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})
