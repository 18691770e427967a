"""The FastAPI app factory: no work at import time; everything hangs off `create_app(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.cors import WidgetCORS
from api.errors import install_error_handlers
from api.pages import install_pages
from api.routers import (
    analytics,
    assets,
    chat,
    courses,
    files,
    health,
    jobs,
    lti,
    openai_compat,
    quizzes,
    review,
    sources,
    transcripts,
    uploads,
    users,
    widget,
)
from api.state import AppState
from tutor.review.clock import Clock
from tutor.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """`clock`: the time reviews are scheduled by (tests move their own forward); the system's by default."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = AppState.create(settings, clock)
        app.state.tutor = state
        state.start()
        try:
            yield
        finally:
            await state.close()

    app = FastAPI(
        title="AI Tutor",
        version="0.1.0",
        description="Courses from PDFs; a grounded, cited, streaming tutor chat.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(WidgetCORS)
    routers = (
        health.router,
        uploads.router,
        jobs.router,
        courses.router,
        files.router,
        sources.router,
        quizzes.router,
        review.router,
        analytics.router,
        users.router,
        transcripts.router,
        chat.router,
        openai_compat.router,
        widget.router,
        assets.router,
        lti.router,
    )
    for router in routers:
        app.include_router(router)
    install_pages(app)  # after the error handlers: pages wrap them to answer in HTML
    return app
