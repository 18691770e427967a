"""Celery tasks: thin shells around domain functions."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="tutor.ping")
def ping(payload: str) -> str:
    """Proves the API → broker → worker → result round trip (used by readiness checks and tests)."""
    return f"pong:{payload}"
