"""Entry point for `celery -A ingestion.worker worker` (and `tutor worker`)."""

from __future__ import annotations

from ingestion.celery_app import create_celery

app = create_celery()
