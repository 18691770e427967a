"""The broker round trip: API-side Celery app → Redis → a real worker process → result."""

from __future__ import annotations

import subprocess

from ingestion.celery_app import create_celery
from tutor.settings import Settings


def test_a_task_round_trips_through_a_real_worker(settings: Settings, worker: subprocess.Popen[bytes]) -> None:
    app = create_celery(settings)
    result = app.send_task("tutor.ping", args=["hello"], queue=settings.celery_queue)
    assert result.get(timeout=60) == "pong:hello"
    assert worker.poll() is None
