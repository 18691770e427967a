"""The Celery app: Redis broker from settings; job state lives in job_queue, not in Celery results."""

from __future__ import annotations

from celery import Celery

from tutor.settings import Settings, get_settings


def create_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    if not settings.redis_url:
        raise RuntimeError("TUTOR_REDIS_URL is not set (`tutor up` sets it for its embedded Redis)")
    app = Celery("tutor", broker=settings.redis_url, backend=settings.redis_url, include=["ingestion.tasks"])
    app.conf.update(
        task_default_queue=settings.celery_queue,
        # A worker killed mid-job leaves the message on the broker: the job is redelivered and retried.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        broker_connection_retry_on_startup=True,
        # Redelivery after an unacked message's visibility timeout; it must outlast the longest job, since a
        # message still running past it is delivered again (the job's row lock keeps that harmless).
        # kombu sweeps for such messages only every interval x throttle seconds (100 s by default): scan once per
        # interval, scaled to the timeout, so a job orphaned by a dead worker comes back soon after it expires.
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_timeout_s,
            "unacked_restore_interval": max(1, min(30, settings.broker_visibility_timeout_s // 5)),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
    )
    return app
